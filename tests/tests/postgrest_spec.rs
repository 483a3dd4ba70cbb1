//! PostgREST's own spec, ported case by case (tests/postgrest-spec/), against our server serving
//! a database with the tenancy extension installed and PostgREST's kind of fixtures: no tenant
//! tables, so it must answer exactly as PostgREST does. Configured as PostgREST's spec runs
//! (schema `test`, anonymous role `postgrest_test_anonymous`, its JWT secret, every request
//! rolled back so the cases stay independent). Fails on a case that fails without being listed
//! in known_differences.toml, or passes while listed; prints the table per module and writes it
//! to target/postgrest-spec.md.
use futures_util::stream::{self, StreamExt};
use std::path::PathBuf;
use tenancy_e2e::postgrest_spec::case::{load_modules, Case};
use tenancy_e2e::postgrest_spec::expect::mismatches;
use tenancy_e2e::postgrest_spec::verdict::{load_known, render_known, Outcome, Verdict};
use tenancy_e2e::postgrest_spec::{run, spec_dir};
use tenancy_e2e::{api, ScratchDatabase};

/// The secret PostgREST's spec signs its tokens with.
const SPEC_JWT_SECRET: &str = "reallyreallyreallyreallyverysafe";
/// Requests in flight at once: enough to finish well inside CI's budget on two cores.
const IN_FLIGHT: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgrest_spec() {
    let scratch = ScratchDatabase::create("pgrst_spec").await;
    load_fixtures(&scratch).await;
    let uri = scratch.url().replacen("postgres@", "postgrest_test_authenticator@", 1);
    let api = api::start_with(&[
        ("PGRST_DB_URI", uri.as_str()),
        ("PGRST_DB_SCHEMAS", "test"),
        ("PGRST_DB_ANON_ROLE", "postgrest_test_anonymous"),
        ("PGRST_JWT_SECRET", SPEC_JWT_SECRET),
        ("PGRST_DB_TX_END", "rollback-allow-override"),
        ("PGRST_DB_PRE_REQUEST", "test.switch_role"),
        ("TENANCY_TENANTLESS_ROLES", "postgrest_test_author,postgrest_test_default_role"),
        ("TENANCY_MAX_BODY_BYTES", "1048576"),
    ])
    .await;

    let dir = spec_dir();
    let known = load_known(&dir.join("known_differences.toml"));
    let http = reqwest::Client::new();
    let mut verdict = Verdict::default();
    for module in load_modules(&dir.join("cases")) {
        let outcomes: Vec<(String, Outcome)> = stream::iter(&module.cases)
            .map(|case| async { (case.spec.clone(), outcome(&http, &api.url, case).await) })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        for (id, outcome) in outcomes {
            verdict.record(&module.name, &id, outcome, &known);
        }
    }

    let table = verdict.table();
    println!("PostgREST's spec against our server:\n\n{table}");
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/postgrest-spec.md");
    std::fs::write(&target, format!("# PostgREST's spec against our server\n\n{table}")).unwrap();
    if std::env::var_os("POSTGREST_SPEC_WRITE_KNOWN").is_some() {
        std::fs::write(dir.join("known_differences.toml"), render_known(&verdict.failures)).unwrap();
        return;
    }
    assert!(
        verdict.regressions.is_empty(),
        "{} case(s) fail that known_differences.toml does not list:\n{}",
        verdict.regressions.len(),
        verdict.regressions.join("\n")
    );
    assert!(
        verdict.stale.is_empty(),
        "listed in known_differences.toml but passing now (remove them):\n{}",
        verdict.stale.join("\n")
    );
}

async fn outcome(http: &reqwest::Client, url: &str, case: &Case) -> Outcome {
    if case.skip.is_some() {
        return Outcome::Skipped;
    }
    let answer = run::send(http, url, case).await;
    match mismatches(&case.expect, &answer) {
        found if found.is_empty() => Outcome::Passed,
        found => Outcome::Failed { mismatches: found, answer: answer.summary() },
    }
}

/// The fixtures, in name order, as the superuser; each file creates what it needs so that a
/// second run on the same cluster (roles are cluster-wide) finds them in place.
async fn load_fixtures(scratch: &ScratchDatabase) {
    let db = scratch.connect().await;
    db.batch_execute("CREATE EXTENSION tenancy").await.unwrap();
    let mut files: Vec<_> = std::fs::read_dir(spec_dir().join("fixtures"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    for file in files {
        let sql = std::fs::read_to_string(&file).unwrap();
        db.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
    }
}
