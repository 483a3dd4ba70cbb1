//! `tenancy distribute` on the Citus cluster, whose demo `scripts/up-citus` distributed: the
//! catalog is a reference table with a full copy on every node (three tables excepted), every
//! protected table is distributed by tenant_id, a second run changes nothing, and a database
//! without Citus is refused.
mod common;

use common::{assert_ok, assert_refused, migrated_database, stdout, tenancy};
use tenancy_e2e::citus::{connect, url, COORDINATOR, WORKERS};

const ON_THE_COORDINATOR: [&str; 3] = ["analytics_columns", "events", "protected_tables"];

#[tokio::test]
async fn the_cluster_is_distributed_and_a_second_run_changes_nothing() {
    let again = tenancy(&url(COORDINATOR, "postgres"), &["distribute"]);
    assert_ok(&again);
    assert!(stdout(&again).contains("already distributed: nothing to do"), "{}", stdout(&again));

    let db = connect(COORDINATOR, "postgres").await;
    let catalog = db
        .query(
            "SELECT c.relname::text, p.partmethod::text FROM pg_class c
             LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
             WHERE c.relnamespace = 'tenancy'::regnamespace AND c.relkind = 'r' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    assert!(catalog.len() > 10);
    for row in &catalog {
        let (table, method): (String, Option<String>) = (row.get(0), row.get(1));
        let expected = (!ON_THE_COORDINATOR.contains(&table.as_str())).then(|| "n".to_string());
        assert_eq!(method, expected, "tenancy.{table}");
    }
    let not_by_tenant: Vec<String> = db
        .query(
            "SELECT t.tbl::text FROM tenancy.protected_tables t LEFT JOIN pg_dist_partition p ON p.logicalrelid = t.tbl
             WHERE p.partmethod IS DISTINCT FROM 'h' OR column_to_column_name(p.logicalrelid, p.partkey) <> 'tenant_id'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(not_by_tenant, Vec::<String>::new());

    // Every worker reads a full copy, inside the shard queries it runs too.
    let tenants: i64 = db.query_one("SELECT count(*) FROM tenancy.tenants", &[]).await.unwrap().get(0);
    for worker in WORKERS {
        let w = connect(worker, "postgres").await;
        let copy = w.query_one("SELECT count(*) FROM tenancy.tenants", &[]).await.unwrap().get::<_, i64>(0);
        assert_eq!(copy, tenants, "worker {worker}");
        let nested: String = w.query_one("SHOW citus.allow_nested_distributed_execution", &[]).await.unwrap().get(0);
        assert_eq!(nested, "on", "worker {worker}");
    }
}

#[tokio::test]
async fn only_a_superuser_may_distribute() {
    let admin = connect(COORDINATOR, "platform_admin").await; // a tenancy_admin member
    let refused = admin.query("SELECT * FROM tenancy.distribute()", &[]).await.unwrap_err();
    assert_eq!(refused.code().map(|c| c.code()), Some("42501"), "{refused}");
}

#[tokio::test]
async fn a_database_without_citus_is_refused() {
    let db = migrated_database("distribute").await;
    assert_refused(&tenancy(&db.url(), &["distribute"]), "not on Citus");
}
