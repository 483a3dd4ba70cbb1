//! Catalog changes at once on the Citus cluster (scripts/up-citus): Citus locks the reference
//! shards a statement writes and then those its foreign keys reach, so two lifecycle calls at once
//! took them in opposite orders and one was cancelled ("deadlock detected"). The extension's
//! catalog writers now queue on one lock: many at once all succeed.
use tenancy_e2e::citus::{connect, COORDINATOR};
use tenancy_e2e::unique;

#[tokio::test]
async fn concurrent_lifecycle_calls_all_succeed() {
    let work = (0..8).map(|n| {
        tokio::spawn(async move {
            let db = connect(COORDINATOR, "postgres").await;
            for round in 0..4 {
                let slug = unique(&format!("w{n}-{round}"));
                let steps = format!(
                    "DO $$ DECLARE t uuid; BEGIN
                         t := tenancy.create_tenant('{slug}', 'writer', 'standard', '{{}}', '{{hrms}}');
                         PERFORM tenancy.create_company(t, 'branch');
                         PERFORM tenancy.enable_module(t, 'chat', '{{\"retention_days\": 7}}');
                         PERFORM tenancy.define_tenant_role(t, 'auditor', '{{users:read}}', 'reads');
                         PERFORM tenancy.disable_module(t, 'chat');
                     END $$"
                );
                db.batch_execute(&steps).await.map_err(|e| format!("{slug}: {e:?}"))?;
            }
            Ok::<_, String>(())
        })
    });
    let failures: Vec<String> =
        futures_util::future::join_all(work).await.into_iter().filter_map(|r| r.unwrap().err()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
}
