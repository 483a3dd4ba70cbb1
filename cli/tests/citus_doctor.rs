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

/// Puts a worker's database setting back however the test ends.
struct NestedReadsOff;

impl Drop for NestedReadsOff {
    fn drop(&mut self) {
        let sql = "SET citus.enable_ddl_propagation = off; ALTER DATABASE tenancy SET citus.allow_nested_distributed_execution = on";
        tenancy_e2e::run_detached(
            connect(WORKERS[1], "postgres"),
            sql.to_string(),
            "a worker left without nested reads",
        );
    }
}

#[tokio::test]
async fn a_worker_that_may_not_read_its_catalog_copy_is_named() {
    assert!(findings("citus-nested-catalog-reads").is_empty(), "tenancy distribute set every worker");
    let worker = connect(WORKERS[1], "postgres").await;
    worker
        .batch_execute("SET citus.enable_ddl_propagation = off; ALTER DATABASE tenancy RESET citus.allow_nested_distributed_execution")
        .await
        .unwrap();
    let restore = NestedReadsOff;
    let found = findings("citus-nested-catalog-reads");
    drop(restore);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("may not read the catalog"), "{found:?}");
    assert!(findings("citus-nested-catalog-reads").is_empty());
}
