//! `tenancy doctor` on the Citus cluster (scripts/up-citus): each Citus hazard made by hand is
//! found, with its fix.
mod common;

use common::{stdout, tenancy};
use tenancy_e2e::citus::{connect, TenantTable, COORDINATOR, WORKERS};
use tenancy_e2e::unique;

fn coordinator_url() -> String {
    tenancy_e2e::citus::url(COORDINATOR, "postgres")
}

/// The findings of one check, as `doctor` prints them.
fn findings(check: &str) -> Vec<String> {
    let out = tenancy(&coordinator_url(), &["doctor"]);
    stdout(&out).lines().filter(|l| l.contains(&format!(" {check} "))).map(str::to_string).collect()
}

/// Puts a worker's key file back however the test ends.
struct KeyAway {
    key: String,
}

impl Drop for KeyAway {
    fn drop(&mut self) {
        std::fs::rename(format!("{}.away", self.key), &self.key).expect("the key goes back");
    }
}

#[tokio::test]
async fn a_worker_without_the_context_key_is_named() {
    assert!(findings("citus-context-key").is_empty(), "every node has the key to start with");
    let key = format!("{}/../.dev/citus/worker2/tenancy_context.key", env!("CARGO_MANIFEST_DIR"));
    std::fs::rename(&key, format!("{key}.away")).unwrap();
    let away = KeyAway { key };
    let found = findings("citus-context-key");
    drop(away);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("has no context key"), "{found:?}");
    assert!(findings("citus-context-key").is_empty());
}

#[tokio::test]
async fn roles_that_cannot_log_in_and_restrictive_policies_are_named() {
    let t = TenantTable::create().await;
    let db = connect(COORDINATOR, "postgres").await;
    let quiet = unique("quiet").replace('-', "_");
    for statement in [
        format!("CREATE ROLE {quiet} NOLOGIN"),
        format!("GRANT {quiet} TO {}", t.service),
        format!("CREATE POLICY narrower ON {} AS RESTRICTIVE USING (body <> 'secret')", t.table),
    ] {
        db.batch_execute(&statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let login = findings("citus-role-cannot-login");
    assert!(login.iter().any(|l| l.contains(&quiet)), "{login:?}");
    assert!(!login.iter().any(|l| l.contains(&t.member)), "the member can log in: {login:?}");
    let restrictive = findings("citus-restrictive-policy");
    assert!(
        restrictive.iter().any(|l| l.contains(&format!("narrower on {}", t.table.trim_start_matches("public.")))),
        "{restrictive:?}"
    );
}

#[tokio::test]
async fn a_workers_slot_nobody_reads_is_named_with_its_node() {
    let slot = unique("doctor_slot").replace('-', "_");
    let worker = connect(WORKERS[0], "postgres").await;
    worker.execute("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", &[&slot]).await.unwrap();
    let node: String = worker.query_one("SELECT '127.0.0.1:' || current_setting('port')", &[]).await.unwrap().get(0);
    let slots = findings("replication-slot");
    let status = stdout(&tenancy(&coordinator_url(), &["status"]));
    worker.execute("SELECT pg_drop_replication_slot($1)", &[&slot]).await.unwrap();
    let line = slots.iter().find(|l| l.contains(&slot)).unwrap_or_else(|| panic!("{slots:?}"));
    assert!(line.starts_with(&format!("warning replication-slot {slot} on {node}: not read by anyone")), "{line}");
    assert!(status.contains(&format!("  {slot} on {node}: not read, ")), "{status}");
    assert!(!findings("replication-slot").iter().any(|l| l.contains(&slot)), "gone once dropped");
}

#[tokio::test]
async fn a_publication_the_workers_lack_is_named_and_distribute_sends_it() {
    let t = TenantTable::create().await;
    let publication = unique("doctor_pub").replace('-', "_");
    let db = connect(COORDINATOR, "postgres").await;
    // As the first `tenancy migrate` makes V14's: on the coordinator alone.
    let create =
        format!("SET citus.enable_ddl_propagation = off; CREATE PUBLICATION {publication} FOR TABLE {}", t.table);
    db.batch_execute(&create).await.unwrap();
    let missing = findings("citus-publication-missing");
    assert_eq!(missing.iter().filter(|l| l.contains(&format!("{publication} on "))).count(), 2, "{missing:?}");

    let distribute = tenancy(&coordinator_url(), &["distribute"]);
    common::assert_ok(&distribute);
    assert!(
        stdout(&distribute).contains(&format!("publication {publication}: on every node")),
        "{}",
        stdout(&distribute)
    );
    assert!(!findings("citus-publication-missing").iter().any(|l| l.contains(&publication)));
    for worker in WORKERS {
        let tables = connect(worker, "postgres")
            .await
            .query("SELECT tablename::text FROM pg_publication_tables WHERE pubname = $1", &[&publication])
            .await
            .unwrap();
        let tables: Vec<String> = tables.iter().map(|r| r.get(0)).collect();
        assert_eq!(tables, [t.table.trim_start_matches("public.")], "worker {worker} publishes the table");
    }
    db.batch_execute(&format!("DROP PUBLICATION {publication}")).await.unwrap();
}

/// Statements that mend a worker, run however the test ends.
struct Mend {
    worker: u16,
    statements: &'static [&'static str],
}

impl Drop for Mend {
    fn drop(&mut self) {
        for sql in self.statements {
            tenancy_e2e::run_detached(connect(self.worker, "postgres"), sql.to_string(), "a worker left broken");
        }
    }
}

/// Breaks `worker` with `breaks` (one statement each: `ALTER SYSTEM` runs alone), expects
/// `check` to name it once, saying `says`, mends it with `mends`, and expects nothing again.
async fn a_broken_worker_is_named(
    check: &str,
    worker: u16,
    breaks: &[&str],
    mends: &'static [&'static str],
    says: &str,
) {
    assert!(findings(check).is_empty(), "{check}: the cluster starts sound");
    let db = connect(worker, "postgres").await;
    let mend = Mend { worker, statements: mends };
    for sql in breaks {
        db.batch_execute(sql).await.unwrap();
    }
    // pg_reload_conf returns before the postmaster has read the file again
    let settled = || tokio::time::sleep(std::time::Duration::from_millis(300));
    settled().await;
    let found = findings(check);
    drop(mend);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(says), "{found:?}");
    settled().await;
    assert!(findings(check).is_empty(), "{check}: mended");
}

#[tokio::test]
async fn a_worker_that_may_not_read_its_catalog_copy_is_named() {
    a_broken_worker_is_named(
        "citus-nested-catalog-reads",
        WORKERS[1],
        &["SET citus.enable_ddl_propagation = off; ALTER DATABASE tenancy RESET citus.allow_nested_distributed_execution"],
        &["SET citus.enable_ddl_propagation = off; ALTER DATABASE tenancy SET citus.allow_nested_distributed_execution = on"],
        "may not read the catalog",
    )
    .await;
}

#[tokio::test]
async fn a_worker_without_change_data_capture_is_named() {
    a_broken_worker_is_named(
        "citus-change-data-capture",
        WORKERS[1],
        &["ALTER SYSTEM SET citus.enable_change_data_capture = off", "SELECT pg_reload_conf()"],
        &["ALTER SYSTEM SET citus.enable_change_data_capture = on", "SELECT pg_reload_conf()"],
        "real-time receives none",
    )
    .await;
}

#[tokio::test]
async fn a_worker_where_the_replication_login_cannot_log_in_is_named() {
    a_broken_worker_is_named(
        "citus-realtime-login",
        WORKERS[0],
        &["SET citus.enable_ddl_propagation = off; ALTER ROLE tenancy_realtime NOREPLICATION"],
        &["SET citus.enable_ddl_propagation = off; ALTER ROLE tenancy_realtime LOGIN REPLICATION"],
        "cannot log in there with REPLICATION",
    )
    .await;
}
