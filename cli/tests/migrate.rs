//! `tenancy migrate` refuses before applying anything: on a lint error, and when a migration
//! fails at run time. Each test runs on a throwaway database of the dev cluster.
use std::path::{Path, PathBuf};
use std::process::Output;
use tenancy_e2e::ScratchDatabase;

mod common;
use common::tenancy;

fn migrate(db: &ScratchDatabase, migrations: &Path, policies: &Path) -> Output {
    let (migrations, policies) = (migrations.to_str().unwrap(), policies.to_str().unwrap());
    tenancy(&db.url(), &["migrate", "--migrations", migrations, "--policies", policies])
}

/// Applied versions, and the application tables that exist.
async fn state(db: &ScratchDatabase) -> (Vec<i32>, Vec<String>) {
    let db = db.connect().await;
    let versions = db.query("SELECT version FROM refinery_schema_history ORDER BY version", &[]).await.unwrap();
    let tables = db
        .query(
            "SELECT format('%s.%s', schemaname, tablename) FROM pg_tables
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'tenancy', 'public') ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    (versions.iter().map(|r| r.get(0)).collect(), tables.iter().map(|r| r.get(0)).collect())
}

fn project(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir)
}

/// A copy of a project directory plus extra files.
fn with_extra(dir: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(project(dir)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
    }
    for (name, sql) in extra {
        std::fs::write(copy.path().join(name), sql).unwrap();
    }
    copy
}

/// The next migration version after the project's own.
fn next_version() -> u32 {
    std::fs::read_dir(project("migrations"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_prefix('V')?.split_once("__")?.0.parse::<u32>().ok()
        })
        .max()
        .unwrap()
        + 1
}

const CRM: &str = "CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));";
const CRM_POLICY: &str = "SELECT tenancy.protect('crm.contacts', 'users');";

/// The project applied, as a database in production would be before the next release.
async fn deployed(label: &str) -> (ScratchDatabase, (Vec<i32>, Vec<String>)) {
    let db = ScratchDatabase::create(&format!("migrate_{label}")).await;
    let output = migrate(&db, &project("migrations"), &project("policies"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let applied = state(&db).await;
    assert_eq!(applied.0.len() as u32, next_version() - 1);
    (db, applied)
}

#[tokio::test]
async fn a_migration_that_fails_the_lint_applies_nothing() {
    let (db, before) = deployed("lint").await;
    let v = next_version();
    // The new table is never protected; the migration after it is fine on its own.
    let migrations = with_extra(
        "migrations",
        &[(&format!("V{v}__crm.sql"), CRM), (&format!("V{}__more.sql", v + 1), "CREATE SCHEMA more_crm;")],
    );
    let output = migrate(&db, migrations.path(), &project("policies"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("V{v}__crm.sql:2:14 unprotected-table error")), "{stderr}");
    assert!(stderr.contains("nothing was applied"), "{stderr}");
    assert_eq!(state(&db).await, before);

    // With its policy the same migrations apply: the refusal was the lint's.
    let policies = with_extra("policies", &[("95_crm.sql", CRM_POLICY)]);
    let output = migrate(&db, migrations.path(), policies.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (versions, tables) = state(&db).await;
    assert_eq!(versions.len(), before.0.len() + 2);
    assert!(tables.contains(&"crm.contacts".to_string()));
}

#[tokio::test]
async fn a_migration_that_fails_at_run_time_leaves_the_ones_before_it_unapplied() {
    let (db, before) = deployed("runtime").await;
    let v = next_version();
    // Lint-clean, but the second one fails when it runs: the first must not stay applied.
    let migrations = with_extra(
        "migrations",
        &[(&format!("V{v}__crm.sql"), CRM), (&format!("V{}__broken.sql", v + 1), "SELECT 1 / 0;")],
    );
    let policies = with_extra("policies", &[("95_crm.sql", CRM_POLICY)]);
    let output = migrate(&db, migrations.path(), policies.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("division by zero"), "{stderr}");
    assert_eq!(state(&db).await, before);
}

#[tokio::test]
async fn a_policy_that_fails_leaves_the_migrations_unapplied() {
    let (db, before) = deployed("policy").await;
    let migrations = with_extra("migrations", &[(&format!("V{}__crm.sql", next_version()), CRM)]);
    let policies =
        with_extra("policies", &[("95_crm.sql", "SELECT tenancy.protect('crm.contacts', 'no_such_module');")]);
    let output = migrate(&db, migrations.path(), policies.path());
    assert!(!output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(state(&db).await, before);
}

#[tokio::test]
async fn a_migration_with_lint_warnings_only_applies_and_the_warnings_are_shown() {
    let (db, before) = deployed("warnings").await;
    let v = next_version();
    // hrms.employees exists (the database says so): building an index on it is a lock warning.
    let index = "CREATE INDEX employees_hired ON hrms.employees (tenant_id, hired_on);";
    let migrations = with_extra("migrations", &[(&format!("V{v}__employees_hired.sql"), index)]);
    let output = migrate(&db, migrations.path(), &project("policies"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("V{v}__employees_hired.sql:1:33 index-without-concurrently warning")), "{stderr}");
    assert!(stderr.contains("0 error(s), 1 warning(s)"), "{stderr}");
    assert_eq!(state(&db).await.0.len(), before.0.len() + 1);
    let built =
        db.connect().await.query_one("SELECT to_regclass('hrms.employees_hired') IS NOT NULL", &[]).await.unwrap();
    assert!(built.get::<_, bool>(0));
}
