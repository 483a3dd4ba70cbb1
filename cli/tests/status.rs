//! `tenancy status`: what a database lacks, and exit 1 until nothing does.
use tenancy_e2e::ScratchDatabase;

mod common;
use common::{assert_ok, stdout, tenancy};

#[tokio::test]
async fn status_says_what_is_missing_until_nothing_is() {
    let db = ScratchDatabase::create("status").await;
    let empty = tenancy(&db.url(), &["status"]);
    assert_eq!(empty.status.code(), Some(1));
    let text = stdout(&empty);
    assert!(text.contains("extension: not installed; 0.2.0 available"), "{text}");
    assert!(text.contains("pending: V1__core_users"), "{text}");

    db.connect().await.batch_execute("CREATE EXTENSION tenancy VERSION '0.1.0'").await.unwrap();
    let old = stdout(&tenancy(&db.url(), &["status"]));
    assert!(old.contains("extension: 0.1.0 installed, 0.2.0 available: ALTER EXTENSION tenancy UPDATE"), "{old}");
    assert!(old.contains("versions on this server: 0.1.0, 0.2.0"), "{old}");

    assert_ok(&tenancy(&db.url(), &["migrate"]));
    let current = tenancy(&db.url(), &["status"]);
    assert_eq!(current.status.code(), Some(0), "{}", stdout(&current));
    let text = stdout(&current);
    assert!(text.contains("extension: 0.2.0 (up to date)") && text.contains(", 0 pending"), "{text}");
    assert!(text.contains("unprotected tables: 0"), "{text}");

    let holes = db.connect().await;
    holes.batch_execute("CREATE TABLE public.loose (tenant_id uuid, note text)").await.unwrap();
    let text = stdout(&tenancy(&db.url(), &["status"]));
    assert!(!text.contains("unprotected tables: 0") && text.contains("loose: not registered"), "{text}");
}
