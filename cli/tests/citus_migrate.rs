//! `tenancy migrate` and `tenancy lint` on the distributed cluster (the demo `scripts/up-citus`
//! distributed): a migration that goes on as another role after running as one is refused by the
//! lint before anything is applied (Citus would fail it on every worker: rule
//! role-switch-on-citus). The same migration is fine on one node, and the same work done as one
//! role is fine on the cluster. A SQL function over a tenant table is refused there
//! (sql-function-on-citus), its PL/pgSQL form is not.
mod common;

use common::{assert_ok, assert_refused, migrated_database, stdout, tenancy};
use std::path::Path;
use tenancy_e2e::citus::{connect, url, COORDINATOR};

const GOES_ON_AS_ANOTHER_ROLE: &str = "SET LOCAL ROLE tenancy_auth_owner;
CREATE VIEW auth.role_switch_probe WITH (security_invoker = true) AS SELECT id FROM auth.identities;
RESET ROLE;
REVOKE ALL ON auth.role_switch_probe FROM PUBLIC;
";
const AS_ONE_ROLE: &str = "SET LOCAL ROLE tenancy_auth_owner;
CREATE VIEW auth.role_switch_probe WITH (security_invoker = true) AS SELECT id FROM auth.identities;
REVOKE ALL ON auth.role_switch_probe FROM PUBLIC;
RESET ROLE;
";

/// The built-in migrations and, after them, `probe` as the next one.
fn migrations_then(probe: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut last = 0;
    for file in std::fs::read_dir(&builtin).unwrap().map(|f| f.unwrap().path()) {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        last = last.max(name[1..name.find("__").unwrap()].parse::<u32>().unwrap());
        std::fs::copy(&file, dir.path().join(&name)).unwrap();
    }
    std::fs::write(dir.path().join(format!("V{}__role_switch_probe.sql", last + 1)), probe).unwrap();
    dir
}

#[tokio::test]
async fn a_migration_going_on_as_another_role_is_refused_before_anything_is_applied() {
    let coordinator = url(COORDINATOR, "postgres");
    let switching = migrations_then(GOES_ON_AS_ANOTHER_ROLE);
    let refused = tenancy(&coordinator, &["migrate", "--migrations", switching.path().to_str().unwrap()]);
    assert_refused(&refused, "role-switch-on-citus error");
    assert_refused(&refused, "nothing was applied");
    let db = connect(COORDINATOR, "postgres").await;
    let probe: Option<String> =
        db.query_one("SELECT to_regclass('auth.role_switch_probe')::text", &[]).await.unwrap().get(0);
    assert_eq!(probe, None);

    // As one role it passes the lint on the cluster (linted only: the shared demo keeps its history).
    let one_role = migrations_then(AS_ONE_ROLE);
    let linted = tenancy(&coordinator, &["lint", "--database-url", &coordinator, one_role.path().to_str().unwrap()]);
    assert_ok(&linted);
    assert!(stdout(&linted).contains("1 file(s) linted"), "{}", stdout(&linted));

    // One node takes the switching migration.
    let single = migrated_database("role_switch").await;
    assert_ok(&tenancy(&single.url(), &["migrate", "--migrations", switching.path().to_str().unwrap()]));
}

#[tokio::test]
async fn a_sql_function_over_a_tenant_table_is_refused_and_its_plpgsql_form_is_not() {
    let coordinator = url(COORDINATOR, "postgres");
    let lint = |function: &str| {
        let dir = migrations_then(function);
        tenancy(&coordinator, &["lint", "--database-url", &coordinator, dir.path().to_str().unwrap()])
    };
    let in_sql = lint(
        "CREATE FUNCTION hrms.probe_headcount(since date) RETURNS bigint LANGUAGE sql STABLE AS $$
             SELECT count(*) FROM hrms.employees WHERE hired_on >= since;
         $$;",
    );
    assert_eq!(in_sql.status.code(), Some(1), "{}", stdout(&in_sql));
    assert!(stdout(&in_sql).contains("sql-function-on-citus error"), "{}", stdout(&in_sql));
    let in_plpgsql = lint(
        "CREATE FUNCTION hrms.probe_headcount(since date) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
         BEGIN
             RETURN (SELECT count(*) FROM hrms.employees e WHERE e.hired_on >= probe_headcount.since);
         END $$;",
    );
    assert_ok(&in_plpgsql);
    // A SQL function over the catalog alone is fine: Citus plans reference tables' reads there.
    let over_the_catalog = lint(
        "CREATE FUNCTION public.probe_plans() RETURNS bigint LANGUAGE sql STABLE AS $$
             SELECT count(*) FROM tenancy.plans;
         $$;",
    );
    assert_ok(&over_the_catalog);
}
