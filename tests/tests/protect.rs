//! tenancy.protect and tenancy.unprotected_tables on tables the tests make themselves.
//! Each test works in one transaction that it never commits: DDL is transactional, so no
//! half-protected table outlives a test (`tenancy migrate` would rightly refuse to run).
use serde_json::Value;
use tenancy_e2e::*;
use tokio_postgres::{GenericClient, Transaction};

/// A fresh schema for one test's tables; its name.
async fn schema(admin: &Transaction<'_>) -> String {
    let name = unique("protect").replace('-', "_");
    admin.batch_execute(&format!("CREATE SCHEMA {name}; GRANT USAGE ON SCHEMA {name} TO tenant_member")).await.unwrap();
    name
}

async fn problems(admin: &impl GenericClient, table: &str) -> Vec<String> {
    admin
        .query(
            "SELECT problem FROM tenancy.unprotected_tables() WHERE table_name = $1::text::regclass ORDER BY 1",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn keys_without_tenant_id_are_refused() {
    let mut db = superuser().await;
    let mut admin = db.transaction().await.unwrap();
    let s = schema(&admin).await;
    for (name, ddl) in [
        ("pk", "id int PRIMARY KEY, tenant_id uuid"),
        ("uniq", "tenant_id uuid, id int, code text UNIQUE, PRIMARY KEY (tenant_id, id)"),
        ("nocol", "id int PRIMARY KEY"),
    ] {
        admin.batch_execute(&format!("CREATE TABLE {s}.{name} ({ddl})")).await.unwrap();
        let attempt = admin.savepoint("attempt").await.unwrap();
        let refused = attempt.execute(&format!("SELECT tenancy.protect('{s}.{name}')"), &[]).await;
        assert_eq!(sqlstate(refused), "TN030", "{name}");
    }
    admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.parent (tenant_id uuid, id int, PRIMARY KEY (tenant_id, id));
             SELECT tenancy.protect('{s}.parent');
             CREATE TABLE {s}.child (tenant_id uuid, id int, parent_id int, PRIMARY KEY (tenant_id, id));
             SET LOCAL session_replication_role = replica; -- past the guard, which refuses this index
             CREATE UNIQUE INDEX ON {s}.parent (id);
             SET LOCAL session_replication_role = origin;
             ALTER TABLE {s}.child ADD FOREIGN KEY (parent_id) REFERENCES {s}.parent (id);"
        ))
        .await
        .unwrap();
    let attempt = admin.savepoint("attempt").await.unwrap();
    let refused = attempt.execute(&format!("SELECT tenancy.protect('{s}.child')"), &[]).await;
    assert!(message(refused).contains("foreign key"));
    drop(attempt);
    // Nothing was half-done: the refused tables have no RLS.
    let rls: bool = value(&admin, &format!("SELECT relrowsecurity FROM pg_class WHERE oid = '{s}.pk'::regclass")).await;
    assert!(!rls);
}

#[tokio::test]
async fn protect_is_complete_and_idempotent() {
    let mut db = superuser().await;
    let t = create_tenant(&db, "free", &["chat"]).await;
    let admin = db.transaction().await.unwrap();
    let s = schema(&admin).await;
    let table = format!("{s}.notes");
    admin.batch_execute(&format!("CREATE TABLE {table} (body text NOT NULL)")).await.unwrap();
    assert!(problems(&admin, &table).await.is_empty(), "no tenant_id, not registered: not a tenant table yet");
    for _ in 0..2 {
        admin.execute("SELECT tenancy.protect($1::text::regclass, 'chat')", &[&table]).await.unwrap();
        assert_eq!(problems(&admin, &table).await, Vec::<String>::new());
    }
    let shape = admin
        .query_one(
            "SELECT c.relrowsecurity, c.relforcerowsecurity,
                    (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid),
                    (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid),
                    (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'),
                    (SELECT module FROM tenancy.protected_tables WHERE tbl = c.oid)
             FROM pg_class c WHERE c.oid = $1::text::regclass",
            &[&table],
        )
        .await
        .unwrap();
    assert!(shape.get::<_, bool>(0) && shape.get::<_, bool>(1), "RLS enabled and forced");
    assert_eq!(shape.get::<_, i64>(2), 5, "four restrictive policies and the permissive one");
    assert_eq!(shape.get::<_, i64>(3), 1, "one tenant_id index, not one per call");
    assert!(shape.get::<_, bool>(4), "tenant_id NOT NULL");
    assert_eq!(shape.get::<_, Option<String>>(5).as_deref(), Some("chat"));

    // The default is the current tenant: an insert in a tenant's context lands there.
    admin.batch_execute(&format!("GRANT ALL ON {table} TO tenant_member")).await.unwrap();
    admin.execute("SELECT tenancy.enter_tenant($1)", &[&t.id]).await.unwrap();
    admin
        .batch_execute(&format!(
            "SET LOCAL ROLE tenant_member; INSERT INTO {table} (body) VALUES ('hello'); RESET ROLE"
        ))
        .await
        .unwrap();
    let owner: uuid::Uuid = value(&admin, &format!("SELECT tenant_id FROM {table}")).await;
    assert_eq!(owner, t.id);
}

#[tokio::test]
async fn the_guard_refuses_every_weakening_and_unprotected_tables_finds_it() {
    let mut db = superuser().await;
    let mut admin = db.transaction().await.unwrap();
    let s = schema(&admin).await;
    let table = format!("{s}.items");
    admin
        .batch_execute(&format!("CREATE TABLE {table} (tenant_id uuid, id int, PRIMARY KEY (tenant_id, id))"))
        .await
        .unwrap();
    let found = problems(&admin, &table).await;
    assert!(found.contains(&"not registered: call tenancy.protect".to_string()), "{found:?}");
    assert!(found.contains(&"row level security is not enabled".to_string()), "{found:?}");

    let protect = format!("SELECT tenancy.protect('{table}', 'hrms')");
    for (weakening, expected) in [
        (format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"), "row level security is not forced"),
        (format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"), "row level security is not enabled"),
        (format!("DROP POLICY tenancy_select ON {table}"), "policy tenancy_select is missing or was changed"),
        (
            format!("ALTER POLICY tenancy_update ON {table} USING (true)"),
            "policy tenancy_update is missing or was changed",
        ),
        (
            format!("ALTER POLICY tenancy_rows ON {table} TO tenant_member"),
            "policy tenancy_rows is missing or was changed",
        ),
        (
            format!("ALTER TABLE {table} ALTER COLUMN tenant_id DROP DEFAULT"),
            "tenant_id does not default to tenancy.current_tenant_id()",
        ),
        (format!("CREATE UNIQUE INDEX ON {table} (id)"), "does not include tenant_id"),
    ] {
        admin.batch_execute(&protect).await.unwrap();
        assert_eq!(problems(&admin, &table).await, Vec::<String>::new());
        // the guard refuses it...
        let attempt = admin.savepoint("attempt").await.unwrap();
        let refused = attempt.batch_execute(&weakening).await;
        assert_eq!(sqlstate(refused), "TN031", "{weakening}");
        attempt.rollback().await.unwrap();
        assert_eq!(problems(&admin, &table).await, Vec::<String>::new());
        // ...and what gets past it (a superuser switching event triggers off) is found
        admin.batch_execute("SET LOCAL session_replication_role = replica").await.unwrap();
        admin.batch_execute(&weakening).await.unwrap();
        admin.batch_execute("SET LOCAL session_replication_role = origin").await.unwrap();
        let found = problems(&admin, &table).await;
        assert!(found.iter().any(|p| p.contains(expected)), "{weakening}: {found:?}");
        if weakening.starts_with("CREATE UNIQUE INDEX") {
            admin.batch_execute(&format!("DROP INDEX {s}.items_id_idx")).await.unwrap();
        }
    }
    admin.batch_execute(&protect).await.unwrap();
    assert_eq!(problems(&admin, &table).await, Vec::<String>::new());

    admin.batch_execute(&format!("DROP TABLE {table}")).await.unwrap();
    let left: i64 =
        value(&admin, &format!("SELECT count(*) FROM tenancy.protected_tables WHERE tbl::text LIKE '{s}.%'")).await;
    assert_eq!(left, 0, "a dropped table leaves the registry");
}

#[tokio::test]
async fn unprotect_is_the_recorded_way_past_the_guard() {
    let mut db = superuser().await;
    let mut admin = db.transaction().await.unwrap();
    let s = schema(&admin).await;
    let table = format!("{s}.items");
    admin
        .batch_execute(&format!(
            "CREATE TABLE {table} (tenant_id uuid, id int, PRIMARY KEY (tenant_id, id));
             SELECT tenancy.protect('{table}', 'hrms')"
        ))
        .await
        .unwrap();

    let attempt = admin.savepoint("attempt").await.unwrap();
    let refused = attempt.batch_execute(&format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")).await;
    let err = refused.as_ref().unwrap_err().as_db_error().unwrap();
    assert_eq!(err.message(), format!("cannot weaken protected table {table}: row level security is not enabled"));
    assert!(err.hint().unwrap().contains(&format!("tenancy.unprotect('{table}')")), "{:?}", err.hint());
    attempt.rollback().await.unwrap();

    admin.batch_execute(&format!("SELECT tenancy.unprotect('{table}')")).await.unwrap();
    let row = admin
        .query_one(
            "SELECT c.relrowsecurity, c.relforcerowsecurity,
                    (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid),
                    (SELECT count(*) FROM pg_attrdef d WHERE d.adrelid = c.oid)
             FROM pg_class c WHERE c.oid = $1::text::regclass",
            &[&table],
        )
        .await
        .unwrap();
    let state: (bool, bool, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(state, (false, false, 0, 0), "policies, RLS and the tenant_id default are gone");
    // tenant_id stays, so the table is listed until it is protected again or the column goes
    assert_eq!(
        problems(&admin, &table).await,
        [
            "not registered: call tenancy.protect",
            "policy tenancy_rows is missing or was changed",
            "row level security is not enabled",
            "row level security is not forced",
            "tenant_id does not default to tenancy.current_tenant_id()",
        ]
    );
    let recorded: i64 = value(
        &admin,
        &format!(
            "SELECT count(*) FROM tenancy.events WHERE action = 'table.unprotected' AND detail->>'table' = '{table}'"
        ),
    )
    .await;
    assert_eq!(recorded, 1);

    let again = admin.savepoint("again").await.unwrap();
    assert_eq!(sqlstate(again.batch_execute(&format!("SELECT tenancy.unprotect('{table}')")).await), "TN030");
    again.rollback().await.unwrap();

    // only tenancy_admin members who own the table may
    let owner = unique("owner").replace('-', "_");
    admin
        .batch_execute(&format!(
            "SELECT tenancy.protect('{table}', 'hrms'); CREATE ROLE {owner}; ALTER TABLE {table} OWNER TO {owner};
             SET LOCAL ROLE {owner}"
        ))
        .await
        .unwrap();
    let refused = admin.batch_execute(&format!("SELECT tenancy.unprotect('{table}')")).await;
    assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE);
}

fn find<'a>(plan: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(plan);
    for child in plan["Plans"].as_array().into_iter().flatten() {
        find(child, out);
    }
}

#[tokio::test]
async fn the_policy_checks_once_per_statement_and_keeps_the_tenant_index() {
    let mut db = superuser().await;
    let tenant = create_tenant(&db, "free", &["hrms"]).await;
    let analyst = create_analyst(&db, &[tenant.id]).await;
    let admin = db.transaction().await.unwrap();
    let s = schema(&admin).await;
    let table = format!("{s}.facts");
    admin
        .batch_execute(&format!(
            "CREATE TABLE {table} (tenant_id uuid, id int, category int, payload text, PRIMARY KEY (tenant_id, id));
             GRANT SELECT ON {table} TO tenant_member;"
        ))
        .await
        .unwrap();
    // 100,000 rows of 100 tenants, interleaved across the heap; one tenant is ours.
    admin
        .execute(
            &format!(
                "INSERT INTO {table}
                 SELECT CASE WHEN i % 100 = 0 THEN $1 ELSE md5((i % 100)::text)::uuid END, i, i % 7, repeat('x', 40)
                 FROM generate_series(1, 100000) i"
            ),
            &[&tenant.id],
        )
        .await
        .unwrap();
    admin.batch_execute(&format!("SELECT tenancy.protect('{table}', 'hrms'); ANALYZE {table}")).await.unwrap();
    // The analyst's identity within this uncommitted transaction: its binding gives the tenant.
    admin.batch_execute(&format!("SET LOCAL ROLE {analyst}")).await.unwrap();
    let analyst = &admin;

    let explained: Value =
        value(analyst, &format!("EXPLAIN (ANALYZE, FORMAT JSON) SELECT id, category FROM {table} WHERE category = 3"))
            .await;
    let mut nodes = vec![];
    find(&explained[0]["Plan"], &mut nodes);
    let render = serde_json::to_string_pretty(&explained).unwrap();
    assert!(nodes.iter().all(|n| n["Node Type"] != "Seq Scan"), "{render}");
    assert!(
        nodes.iter().any(|n| n["Index Cond"].as_str().is_some_and(|c| c.contains("tenant_id = $0"))),
        "the tenant is an index condition: {render}"
    );
    let init_plans: Vec<_> = nodes.iter().filter(|n| n["Parent Relationship"] == "InitPlan").collect();
    assert_eq!(init_plans.len(), 1, "tenant and module in one subquery: {render}");
    assert_eq!(init_plans[0]["Actual Loops"], 1, "evaluated once per statement: {render}");
    let rows: i64 = value(analyst, &format!("SELECT count(*) FROM {table} WHERE category = 3")).await;
    assert_eq!(rows, (1..=100000).filter(|i| i % 100 == 0 && i % 7 == 3).count() as i64);
}

#[tokio::test]
async fn only_administrators_protect_and_only_their_own_tables() {
    let mut db = superuser().await;
    let owner = create_role(&db, "").await;
    let admin_not_owner = create_role(&db, "IN ROLE tenancy_admin").await;
    let mut admin = db.transaction().await.unwrap();
    let s = schema(&admin).await;
    admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.mine (tenant_id uuid, id int, PRIMARY KEY (tenant_id, id));
             ALTER TABLE {s}.mine OWNER TO {owner};
             GRANT USAGE ON SCHEMA {s} TO PUBLIC;"
        ))
        .await
        .unwrap();
    for (role, why) in [(&owner, "permission denied to protect"), (&admin_not_owner, "must be owner")] {
        let attempt = admin.savepoint("attempt").await.unwrap();
        attempt.batch_execute(&format!("SET LOCAL ROLE {role}")).await.unwrap();
        let refused = attempt.execute(&format!("SELECT tenancy.protect('{s}.mine')"), &[]).await;
        let err = refused.expect_err("refused");
        assert_eq!(err.code().unwrap().code(), INSUFFICIENT_PRIVILEGE, "{role}");
        assert!(err.as_db_error().unwrap().message().contains(why), "{role}: {err:?}");
    }
    let rls: bool =
        value(&admin, &format!("SELECT relrowsecurity FROM pg_class WHERE oid = '{s}.mine'::regclass")).await;
    assert!(!rls, "a refused protect changes nothing");
    admin.batch_execute(&format!("GRANT tenancy_admin TO {owner}; SET LOCAL ROLE {owner}")).await.unwrap();
    admin.execute(&format!("SELECT tenancy.protect('{s}.mine')"), &[]).await.unwrap();
}

#[tokio::test]
async fn a_write_permission_joins_the_write_policies_and_the_guard_watches_it() {
    let mut db = superuser().await;
    let mut admin = db.transaction().await.unwrap();
    let s = schema(&admin).await;
    let table = format!("{s}.notes");
    admin
        .batch_execute(&format!("CREATE TABLE {table} (tenant_id uuid, id int, PRIMARY KEY (tenant_id, id))"))
        .await
        .unwrap();
    let attempt = admin.savepoint("attempt").await.unwrap();
    let unknown = attempt
        .execute(&format!("SELECT tenancy.protect('{table}', 'hrms', write_permission => 'hrms:fly')"), &[])
        .await;
    assert_eq!(sqlstate(unknown), "TN070");
    attempt.rollback().await.unwrap();

    admin
        .execute(&format!("SELECT tenancy.protect('{table}', 'hrms', write_permission => 'hrms:write')"), &[])
        .await
        .unwrap();
    let policies = admin
        .query(
            "SELECT polname::text, coalesce(pg_get_expr(polqual, polrelid), '') || ' ' || coalesce(pg_get_expr(polwithcheck, polrelid), '')
             FROM pg_policy WHERE polrelid = $1::text::regclass AND polname LIKE 'tenancy\\_%' AND polname <> 'tenancy_rows' ORDER BY 1",
            &[&table],
        )
        .await
        .unwrap();
    assert_eq!(policies.len(), 4);
    for p in &policies {
        let (name, expressions): (String, String) = (p.get(0), p.get(1));
        let checks_permission = expressions.contains("require_permission('hrms:write'");
        assert_eq!(checks_permission, name != "tenancy_select", "{name}: {expressions}");
    }
    assert_eq!(problems(&admin, &table).await, Vec::<String>::new());
    // Taking the permission out of a write policy is a weakening like any other.
    let weakening = format!(
        "ALTER POLICY tenancy_insert ON {table} WITH CHECK (tenant_id = (SELECT tenancy.module_tenant_id('hrms')))"
    );
    let attempt = admin.savepoint("attempt").await.unwrap();
    assert_eq!(sqlstate(attempt.batch_execute(&weakening).await), "TN031");
    attempt.rollback().await.unwrap();
}
