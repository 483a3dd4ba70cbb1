//! Attacks on every protected table: an analyst bound to tenant A tries to read, insert,
//! update, delete and move rows of tenant B, and nothing crosses. The tables are not listed
//! here: every table registered with tenancy.protect is attacked, so a new module's tables
//! are covered the day its migration lands (the demo data must give them rows).
use serde_json::Value;
use tenancy_e2e::*;
use tokio_postgres::Client;
use uuid::Uuid;

struct Target {
    table: String,
    attacker: Uuid,
    victim: Uuid,
    /// Insertable columns (not generated), quoted, comma-separated.
    columns: String,
}

/// For each protected table, two tenants that have its module enabled and own rows in it.
async fn targets(admin: &Client) -> Vec<Target> {
    let tables = admin.query("SELECT tbl::text, module FROM tenancy.protected_tables ORDER BY 1", &[]).await.unwrap();
    let mut targets = vec![];
    for row in tables {
        let table: String = row.get(0);
        let module: Option<String> = row.get(1);
        let owners: Vec<Uuid> = admin
            .query(
                &format!(
                    "SELECT x.tenant_id FROM (SELECT DISTINCT tenant_id FROM {table}) x
                     JOIN tenancy.tenants t ON t.id = x.tenant_id AND t.status = 'active'
                     WHERE $1::text IS NULL OR $1 = ANY (tenancy._enabled_modules(x.tenant_id, NULL))
                     ORDER BY t.slug LIMIT 2"
                ),
                &[&module],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(owners.len(), 2, "the demo data should give two tenants rows in {table}");
        let columns: String = admin
            .query_one(
                "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                 WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''",
                &[&table],
            )
            .await
            .unwrap()
            .get(0);
        targets.push(Target { table, attacker: owners[0], victim: owners[1], columns });
    }
    assert!(targets.len() >= 10, "every module's tables are protected: {}", targets.len());
    targets
}

async fn count(db: &Client, table: &str, tenant: Uuid) -> i64 {
    db.query_one(&format!("SELECT count(*) FROM {table} WHERE tenant_id = $1"), &[&tenant]).await.unwrap().get(0)
}

async fn a_row(admin: &Client, table: &str, tenant: Uuid) -> Value {
    admin
        .query_one(&format!("SELECT to_jsonb(t) FROM {table} t WHERE tenant_id = $1 LIMIT 1"), &[&tenant])
        .await
        .unwrap()
        .get(0)
}

/// INSERT of a row given as JSON, identity columns included. (With `RETURNING`, as the REST
/// server writes: on Citus an `INSERT ... SELECT` without it is refused outright under row-level
/// security, 0A000, before the policy could say 42501.)
fn insert_sql(t: &Target) -> String {
    format!(
        "INSERT INTO {table} ({columns}) OVERRIDING SYSTEM VALUE
         SELECT {columns} FROM jsonb_populate_record(NULL::{table}, $1) RETURNING 1",
        table = t.table,
        columns = t.columns
    )
}

#[tokio::test]
async fn an_analyst_cannot_reach_another_tenants_rows_in_any_protected_table() {
    let admin = superuser().await;
    for t in targets(&admin).await {
        let table = &t.table;
        // An HR manager of A: it may write whatever an application user may, so only the
        // tenant policies stand between it and B.
        let analyst_role = create_analyst(&admin, &[t.attacker]).await;
        grant_tenant_role(&admin, t.attacker, &analyst_role, "hr_manager").await;
        let analyst = connect_as(&analyst_role).await;
        let (mine, theirs) = (count(&admin, table, t.attacker).await, count(&admin, table, t.victim).await);
        assert!(mine > 0 && theirs > 0);

        // Read: everything of A, nothing of B, whatever the filter.
        assert_eq!(value::<i64>(&analyst, &format!("SELECT count(*) FROM {table}")).await, mine, "{table}");
        assert_eq!(count(&analyst, table, t.victim).await, 0, "{table}: read B");
        let others: i64 = analyst
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE tenant_id <> $1 OR tenant_id IS NULL"),
                &[&t.attacker],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(others, 0, "{table}: read not-A");

        // Insert a row of B (a copy of one of B's rows, tenant_id and all).
        let theirs_row = a_row(&admin, table, t.victim).await;
        let refused = analyst.execute(&insert_sql(&t), &[&theirs_row]).await;
        assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE, "{table}: insert into B");

        // Update and delete B's rows: they are not there to be touched.
        let updated = analyst
            .execute(&format!("UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1"), &[&t.victim])
            .await
            .unwrap();
        assert_eq!(updated, 0, "{table}: update B");
        let deleted =
            analyst.execute(&format!("DELETE FROM {table} WHERE tenant_id = $1"), &[&t.victim]).await.unwrap();
        assert_eq!(deleted, 0, "{table}: delete B");

        // Move one of A's rows to B.
        let moved = analyst
            .execute(
                &format!("UPDATE {table} SET tenant_id = $1 WHERE ctid = (SELECT ctid FROM {table} LIMIT 1)"),
                &[&t.victim],
            )
            .await;
        // (Citus refuses any change of the distribution column before a policy is asked.)
        let refusal = if on_citus(&admin).await { "0A000" } else { INSUFFICIENT_PRIVILEGE };
        assert_eq!(sqlstate(moved), refusal, "{table}: move a row to B");

        assert_eq!(count(&admin, table, t.victim).await, theirs, "{table}: B unchanged");
        assert_eq!(count(&admin, table, t.attacker).await, mine, "{table}: A unchanged");
    }
}

#[tokio::test]
async fn without_a_tenant_there_are_no_rows_and_no_writes() {
    let admin = superuser().await;
    let nobody = connect_as(&create_role(&admin, "IN ROLE tenant_member").await).await;
    for t in targets(&admin).await {
        let table = &t.table;
        assert_eq!(value::<i64>(&nobody, &format!("SELECT count(*) FROM {table}")).await, 0, "{table}");
        let row = a_row(&admin, table, t.attacker).await;
        assert_eq!(sqlstate(nobody.execute(&insert_sql(&t), &[&row]).await), INSUFFICIENT_PRIVILEGE, "{table}");
        let touched = nobody.execute(&format!("DELETE FROM {table}"), &[]).await.unwrap();
        assert_eq!(touched, 0, "{table}");
    }
}

#[tokio::test]
async fn copy_and_truncate_are_no_way_around() {
    use futures_util::TryStreamExt;
    let admin = superuser().await;
    let target = targets(&admin).await.into_iter().find(|t| t.table == "hrms.employees").unwrap();
    let analyst = connect_as(&create_analyst(&admin, &[target.attacker]).await).await;

    let stream = analyst.copy_out("COPY hrms.employees (tenant_id) TO STDOUT").await.unwrap();
    let bytes: Vec<u8> = stream.map_ok(|b| b.to_vec()).try_concat().await.unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as i64, count(&admin, "hrms.employees", target.attacker).await);
    assert!(lines.iter().all(|l| *l == target.attacker.to_string()), "COPY shows only A's rows");

    let refused = analyst.batch_execute("TRUNCATE hrms.employees CASCADE").await;
    assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE);
}
