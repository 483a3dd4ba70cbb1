//! A worker of the Citus cluster (scripts/up-citus) restarted while a tenant writes through the
//! coordinator: writes fail while it is down, none that was acknowledged is lost, and writing
//! resumes when it is back.
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tenancy_e2e::citus::{connect, TenantTable, Writer, COORDINATOR};

/// The data directory of the worker holding `tenant`'s shard of `table` (scripts/up-citus:
/// .dev/citus/worker1 and worker2 on the coordinator's port + 1 and + 2).
async fn worker_of(table: &str, tenant: uuid::Uuid) -> String {
    let db = connect(COORDINATOR, "postgres").await;
    let port: i32 = db
        .query_one(
            "SELECT n.nodeport FROM pg_dist_placement pl JOIN pg_dist_node n ON n.groupid = pl.groupid
             WHERE pl.shardid = get_shard_id_for_distribution_column($1::text::regclass, $2::uuid)",
            &[&table, &tenant],
        )
        .await
        .unwrap()
        .get(0);
    let coordinator: i32 = db.query_one("SELECT inet_server_port()", &[]).await.unwrap().get(0);
    format!("{}/../.dev/citus/worker{}", env!("CARGO_MANIFEST_DIR"), port - coordinator)
}

#[tokio::test]
async fn a_worker_restarted_under_load_loses_no_acknowledged_write() {
    let t = Arc::new(TenantTable::create().await);
    let data = worker_of(&t.table, t.a).await;
    let writer = Writer::start(t.clone(), t.a);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // -l: the server's output goes to its log, not to this pipe (which `output` reads to its end).
    let log = format!("{data}/server.log");
    let restart = Command::new("runuser")
        .args(["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", &data, "-l", &log])
        .args(["-w", "-m", "immediate", "restart"])
        .output()
        .expect("pg_ctl runs");
    assert!(restart.status.success(), "{}", String::from_utf8_lossy(&restart.stderr));
    // Writing resumes: wait for acknowledged writes after the restart.
    let written_before = t.count_as_superuser(t.a).await;
    let mut resumed = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if t.count_as_superuser(t.a).await > written_before + 3 {
            resumed = true;
            break;
        }
    }
    let (acknowledged, failed) = writer.finish().await;
    assert!(resumed, "writes resumed after the restart ({} failed)", failed.len());

    let mut rows = t.as_tenant(t.a, &format!("SELECT body FROM {}", t.table)).await.unwrap();
    rows.sort();
    let mut expected: Vec<String> = ["a1", "a2"].iter().map(|s| s.to_string()).chain(acknowledged).collect();
    expected.sort();
    // An immediate stop can lose a write the client was never told about, never one it was.
    let missing: Vec<&String> = expected.iter().filter(|b| rows.binary_search(b).is_err()).collect();
    assert!(missing.is_empty(), "acknowledged but gone: {missing:?}");
    assert_eq!(t.count_as_superuser(t.b).await, 3);
}
