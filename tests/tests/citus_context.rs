//! The tenant context on Citus (scripts/up-citus): a tenant entered on the coordinator reads and
//! writes its own rows on the workers' shards and nothing else; the sealed context that carries
//! it cannot be forged or altered, on the coordinator or on a worker reached directly.
use tenancy_e2e::citus::{connect, TenantTable, COORDINATOR, WORKERS};
use tenancy_e2e::{message, sqlstate, INSUFFICIENT_PRIVILEGE};
use tokio_postgres::Client;
use uuid::Uuid;

/// `sql` run by `db` as the member after setting `tenancy.context` to `value` by hand.
async fn with_context(db: &mut Client, member: &str, value: &str, sql: &str) -> Result<i64, tokio_postgres::Error> {
    let tx = db.transaction().await?;
    tx.batch_execute(&format!(
        "SET LOCAL ROLE {member}; SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL tenancy.context = '{value}'"
    ))
    .await?;
    let count = tx.query_one(sql, &[]).await?.get(0);
    tx.commit().await?;
    Ok(count)
}

/// The same sealed value with another tenant in its payload and the original seal.
fn with_tenant_swapped(sealed: &str, from: Uuid, to: Uuid) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    let (payload, seal) = sealed.split_once('.').expect("payload.seal");
    let json = String::from_utf8(B64.decode(payload).unwrap()).unwrap();
    let bytes = |id: Uuid| format!("{:?}", id.as_bytes()).replace(' ', "");
    assert!(json.contains(&bytes(from)), "the payload names the tenant: {json}");
    format!("{}.{seal}", B64.encode(json.replace(&bytes(from), &bytes(to))))
}

#[tokio::test]
async fn the_table_is_spread_over_the_workers_and_a_tenant_sees_only_its_rows() {
    let c = TenantTable::create().await;
    let db = connect(COORDINATOR, "postgres").await;
    let ports: Vec<i32> = db
        .query(&format!("SELECT DISTINCT nodeport FROM citus_shards WHERE table_name = '{}'::regclass", c.table), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ports.len(), 2, "shards on both workers: {ports:?}");

    let mut a = c.as_tenant(c.a, &format!("SELECT body FROM {} ORDER BY body", c.table)).await.unwrap();
    a.sort();
    assert_eq!(a, ["a1", "a2"]);
    let b = c.as_tenant(c.b, &format!("SELECT body FROM {} ORDER BY body", c.table)).await.unwrap();
    assert_eq!(b, ["b1", "b2", "b3"]);
    // Asking for the other tenant's rows by key finds none.
    let sql = format!("SELECT body FROM {} WHERE tenant_id = '{}'", c.table, c.b);
    assert!(c.as_tenant(c.a, &sql).await.unwrap().is_empty());
}

#[tokio::test]
async fn writes_land_in_the_entered_tenant_and_cannot_reach_another() {
    let c = TenantTable::create().await;
    let inserted =
        c.as_tenant(c.a, &format!("INSERT INTO {} (body) VALUES ('a3') RETURNING tenant_id::text", c.table)).await;
    assert_eq!(inserted.unwrap(), [c.a.to_string()]);
    assert_eq!(c.count_as_superuser(c.a).await, 3);

    let into_b = format!("INSERT INTO {} (tenant_id, body) VALUES ('{}', 'x') RETURNING body", c.table, c.b);
    assert_eq!(sqlstate(c.as_tenant(c.a, &into_b).await), INSUFFICIENT_PRIVILEGE);
    let changed = c.as_tenant(c.a, &format!("UPDATE {} SET body = 'gone' RETURNING body", c.table)).await.unwrap();
    assert_eq!(changed.len(), 3, "only a's rows");
    let deleted = c.as_tenant(c.a, &format!("DELETE FROM {} WHERE body LIKE 'b%' RETURNING body", c.table)).await;
    assert!(deleted.unwrap().is_empty());
    assert_eq!(c.count_as_superuser(c.b).await, 3, "b's rows are all there");
}

#[tokio::test]
async fn without_a_context_the_shards_show_nothing() {
    let c = TenantTable::create().await;
    let mut db = connect(COORDINATOR, &c.service).await;
    let tx = db.transaction().await.unwrap();
    tx.batch_execute(&format!("SET LOCAL ROLE {}", c.member)).await.unwrap();
    let count: i64 = tx.query_one(&format!("SELECT count(*) FROM {}", c.table), &[]).await.unwrap().get(0);
    assert_eq!(count, 0);
    tx.rollback().await.unwrap(); // before the table is dropped
}

#[tokio::test]
async fn a_forged_or_altered_context_is_refused_through_the_coordinator() {
    let c = TenantTable::create().await;
    let count = format!("SELECT count(*) FROM {}", c.table);
    let mut db = connect(COORDINATOR, &c.service).await;

    let forged = with_context(&mut db, &c.member, "eyJ0ZW5hbnQiOltdfQ.AAAA", &count).await;
    assert_eq!(sqlstate(forged), INSUFFICIENT_PRIVILEGE);

    let altered = with_tenant_swapped(&c.sealed_for(c.a).await, c.a, c.b);
    let refused = with_context(&mut db, &c.member, &altered, &count).await;
    assert!(message(refused).contains("its seal does not match"));
    assert_eq!(c.count_as_superuser(c.b).await, 3);
}

#[tokio::test]
async fn a_worker_reached_directly_shows_nothing_and_refuses_a_forged_context() {
    let c = TenantTable::create().await;
    let count = format!("SELECT count(*) FROM {}", c.table);
    let altered = with_tenant_swapped(&c.sealed_for(c.a).await, c.a, c.b);
    for worker in WORKERS {
        // Citus lets any node route a query (the workers have the metadata): as the member,
        // without the coordinator's context, nothing is visible.
        let mut db = connect(worker, &c.member).await;
        let seen: i64 = db.query_one(&count, &[]).await.unwrap().get(0);
        assert_eq!(seen, 0, "worker {worker}");
        // The shards themselves, by name.
        let shards: Vec<String> = connect(worker, "postgres")
            .await
            .query(
                "SELECT shard_name FROM citus_shards WHERE table_name = $1::text::regclass AND nodeport = inet_server_port()",
                &[&c.table],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(!shards.is_empty());
        for shard in &shards {
            let sql = format!("SET citus.override_table_visibility = false; SELECT count(*) FROM {shard}");
            let rows = db.simple_query(&sql).await.unwrap();
            let counted = rows.iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            });
            assert_eq!(counted.as_deref(), Some("0"), "shard {shard} on worker {worker}");
        }
        let refused = with_context(&mut db, &c.member, &altered, &count).await;
        assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE, "worker {worker}");
    }
}

#[tokio::test]
async fn an_analyst_bound_to_a_tenant_reads_its_rows_and_no_others_through_any_node() {
    let c = TenantTable::create().await;
    let db = connect(COORDINATOR, "postgres").await;
    let analyst = tenancy_e2e::unique("analyst").replace('-', "_");
    for statement in [
        format!("CREATE ROLE {analyst} LOGIN"),
        format!("GRANT SELECT ON {} TO {analyst}", c.table),
        format!("SELECT tenancy.bind_role('{analyst}', '{}')", c.a),
    ] {
        db.batch_execute(&statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let count = format!("SELECT count(*) FROM {}", c.table);
    let of_b = format!("{count} WHERE tenant_id = '{}'", c.b);
    // The binding is in the catalog, a copy of which every node holds: each node resolves it,
    // for a statement on its own, in a transaction, and on a worker reached directly.
    for node in [COORDINATOR, WORKERS[0], WORKERS[1]] {
        let mut session = connect(node, &analyst).await;
        let alone: i64 = session.query_one(&count, &[]).await.unwrap().get(0);
        assert_eq!(alone, 2, "a's two rows, none of b's three, node {node}");
        let tx = session.transaction().await.unwrap();
        let bound: Uuid = tx.query_one("SELECT tenancy.current_tenant_id()", &[]).await.unwrap().get(0);
        assert_eq!(bound, c.a);
        assert_eq!(tx.query_one(&count, &[]).await.unwrap().get::<_, i64>(0), 2, "node {node}");
        assert_eq!(tx.query_one(&of_b, &[]).await.unwrap().get::<_, i64>(0), 0, "node {node}");
        tx.rollback().await.unwrap();
        // Another tenant by hand: refused, on every node.
        let refused = session.query_one("SELECT tenancy.use_tenant($1)", &[&c.b]).await;
        assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE, "node {node}");
    }
}

#[tokio::test]
async fn a_clients_own_set_local_in_a_query_of_several_statements_stays_on_the_coordinator() {
    let c = TenantTable::create().await;
    let mut db = connect(COORDINATOR, &c.service).await;
    let tx = db.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&c.a]).await.unwrap();
    // Were Citus still forwarding SET LOCAL, this whole string would run on the workers.
    let messages =
        tx.simple_query(&format!("SET LOCAL ROLE {}; SELECT count(*) FROM {}", c.member, c.table)).await.unwrap();
    let counted = messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(counted.as_deref(), Some("2"), "a's two rows");
    tx.rollback().await.unwrap(); // before the table is dropped
}

#[tokio::test]
async fn an_analyst_bound_to_two_tenants_reads_the_chosen_one_in_lone_statements_and_nothing_more() {
    let c = TenantTable::create().await;
    let db = connect(COORDINATOR, "postgres").await;
    let (analyst, other) =
        (tenancy_e2e::unique("analyst").replace('-', "_"), tenancy_e2e::unique("other").replace('-', "_"));
    for statement in [
        format!("CREATE ROLE {analyst} LOGIN"),
        format!("CREATE ROLE {other} LOGIN"),
        format!("GRANT SELECT ON {} TO {analyst}, {other}", c.table),
        format!("SELECT tenancy.bind_role('{analyst}', '{}')", c.a),
        format!("SELECT tenancy.bind_role('{analyst}', '{}')", c.b),
        format!("SELECT tenancy.bind_role('{other}', '{}')", c.a),
    ] {
        db.batch_execute(&statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let count = format!("SELECT count(*)::int FROM {}", c.table);
    let session = connect(COORDINATOR, &analyst).await;
    assert_eq!(session.query_one(&count, &[]).await.unwrap().get::<_, i32>(0), 0, "two bindings, none chosen");
    // Each statement on its own (no transaction block): the workers find the choice themselves.
    session.execute("SELECT tenancy.use_tenant($1)", &[&c.b]).await.unwrap();
    assert_eq!(session.query_one(&count, &[]).await.unwrap().get::<_, i32>(0), 3, "b's three rows");
    session.execute("SELECT tenancy.use_tenant($1)", &[&c.a]).await.unwrap();
    assert_eq!(session.query_one(&count, &[]).await.unwrap().get::<_, i32>(0), 2, "a's two rows");
    let gpid: i64 = session.query_one("SELECT citus_backend_gpid()", &[]).await.unwrap().get(0);

    // On a worker, a role claiming that session's global pid (Citus reads it from the
    // application name) finds only a choice of its own: another role bound to a alone gets a's
    // rows, never b's; the analyst itself, only a tenant it is bound to.
    for worker in WORKERS {
        let forged = |user: String| {
            let mut config = tokio_postgres::Config::new();
            config.host("127.0.0.1").port(tenancy_e2e::citus::port(worker)).dbname("tenancy").user(&user);
            config.application_name(format!("citus_internal gpid={gpid}"));
            async move {
                let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client
            }
        };
        let of_b = format!("SELECT count(*)::int FROM {} WHERE tenant_id = '{}'", c.table, c.b);
        let as_other = forged(other.clone()).await;
        assert_eq!(as_other.query_one(&of_b, &[]).await.unwrap().get::<_, i32>(0), 0, "worker {worker}");
        let as_analyst = forged(analyst.clone()).await;
        assert_eq!(
            as_analyst.query_one(&of_b, &[]).await.unwrap().get::<_, i32>(0),
            0,
            "a was chosen, worker {worker}"
        );
        let shards: i32 = as_analyst.query_one(&count, &[]).await.unwrap().get(0);
        assert!(shards <= 2, "at most a's rows on worker {worker}: {shards}");
    }
    session.execute("SELECT tenancy.use_tenant(NULL)", &[]).await.unwrap();
    assert_eq!(session.query_one(&count, &[]).await.unwrap().get::<_, i32>(0), 0, "no choice, no rows");
}
