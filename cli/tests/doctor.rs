//! `tenancy doctor` on a database of its own: each hole made by hand is found, and the SQL it
//! prints fixes it. Roles are cluster-wide and other tests make some, so the assertions look
//! at this test's own objects only.
use std::process::Output;
use tenancy_e2e::*;

mod common;
use common::{migrated_database, stdout, tenancy};

/// (check, subject, fix) of every finding.
fn findings(output: &Output) -> Vec<(String, String, String)> {
    let text = stdout(output);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter_map(|w| {
            let fix = w[1].strip_prefix("  fix: ")?;
            let mut words = w[0].splitn(4, ' ');
            let (_severity, check, subject) = (words.next()?, words.next()?, words.next()?);
            Some((check.to_string(), subject.trim_end_matches(':').to_string(), fix.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn every_hole_is_found_with_the_sql_that_fixes_it() {
    let scratch = migrated_database("doctor").await;
    let admin = superuser().await;
    let db = scratch.connect().await;
    let (bypasser, enterer) = (unique("bypass").replace('-', "_"), unique("enter").replace('-', "_"));
    db.batch_execute(&format!(
        "CREATE SCHEMA app;
         CREATE TABLE app.notes (tenant_id uuid NOT NULL, id int, PRIMARY KEY (id, tenant_id));
         SELECT tenancy.protect('app.notes', 'hrms');
         CREATE ROLE {bypasser} LOGIN BYPASSRLS;
         CREATE ROLE {enterer} LOGIN IN ROLE tenancy_service;
         CREATE VIEW app.notes_view AS SELECT * FROM app.notes;
         GRANT SELECT ON app.notes TO PUBLIC;
         DROP INDEX app.notes_tenant_id_idx;
         ALTER EVENT TRIGGER tenancy_guard_ddl DISABLE;"
    ))
    .await
    .unwrap();

    let before = tenancy(&scratch.url(), &["doctor"]);
    assert_eq!(before.status.code(), Some(1), "errors make the exit code 1");
    let found = findings(&before);
    let expected = [
        ("bypasses-rls", bypasser.as_str()),
        ("enters-tenants", enterer.as_str()),
        ("view-past-rls", "app.notes_view"),
        ("public-grant", "app.notes"),
        ("unprotected-table", "app.notes"),
        ("guard-off", "tenancy_guard_ddl"),
        ("analytics-unclassified", "app.notes"),
    ];
    let mine: Vec<_> = found.iter().filter(|(c, s, _)| expected.contains(&(c.as_str(), s.as_str()))).collect();
    assert_eq!(mine.len(), expected.len(), "{found:#?}");

    for (_, _, fix) in &mine {
        db.batch_execute(fix).await.unwrap_or_else(|e| panic!("{fix}: {e}"));
    }
    let after = findings(&tenancy(&scratch.url(), &["doctor"]));
    let left: Vec<_> = after.iter().filter(|(c, s, _)| expected.contains(&(c.as_str(), s.as_str()))).collect();
    assert!(left.is_empty(), "the printed fixes fix: {left:#?}");

    drop((db, scratch));
    admin.batch_execute(&format!("DROP ROLE {bypasser}; DROP ROLE {enterer}")).await.unwrap();
}

#[tokio::test]
async fn an_extension_older_than_the_library_is_reported() {
    let scratch = ScratchDatabase::create("doctor_old").await;
    scratch.connect().await.batch_execute("CREATE EXTENSION tenancy VERSION '0.1.0'").await.unwrap();
    let found = findings(&tenancy(&scratch.url(), &["doctor"]));
    assert!(
        found.contains(&("extension-behind".into(), "tenancy".into(), "ALTER EXTENSION tenancy UPDATE;".into())),
        "{found:#?}"
    );
}
