//! A replication slot nobody reads holds WAL for ever: `tenancy doctor` reports every slot's
//! lag (a warning, with the SQL that drops it, when nobody reads it) and `tenancy status`
//! lists the real-time slots.
use tenancy_e2e::*;

mod common;
use common::{migrated_database, stdout, tenancy};

#[tokio::test]
async fn doctor_and_status_show_the_real_time_slots_and_their_lag() {
    let scratch = migrated_database("slots").await;
    let db = scratch.connect().await;
    let slot = unique("tenancy_cli_slot").replace('-', "_");
    db.execute("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", &[&slot]).await.unwrap();
    db.batch_execute("CREATE TABLE lag_maker AS SELECT generate_series(1, 20000) AS n").await.unwrap();

    let doctor = stdout(&tenancy(&scratch.url(), &["doctor"]));
    let line = doctor.lines().find(|l| l.contains(&slot)).unwrap_or_else(|| panic!("{doctor}"));
    assert!(line.starts_with("warning replication-slot"), "{line}");
    assert!(line.contains("not read by anyone") && line.contains("behind"), "{line}");
    assert!(doctor.contains(&format!("SELECT pg_drop_replication_slot('{slot}');")), "{doctor}");

    let status = stdout(&tenancy(&scratch.url(), &["status"]));
    assert!(status.contains("real-time slots: 1"), "{status}");
    assert!(status.contains(&format!("  {slot}: not read, ")), "{status}");

    db.execute("SELECT pg_drop_replication_slot($1)", &[&slot]).await.unwrap();
    let status = stdout(&tenancy(&scratch.url(), &["status"]));
    assert!(status.contains("real-time slots: 0"), "{status}");
}
