//! PostgREST's own spec, ported case by case (tests/postgrest-spec/), against our server serving
//! a database with the tenancy extension installed and PostgREST's kind of fixtures: no tenant
//! tables, so it must answer exactly as PostgREST does. Configured as PostgREST's spec runs
//! (schema `test`, anonymous role `postgrest_test_anonymous`, its JWT secret, its pre-request
//! function, every request rolled back so the cases stay independent). Fails on a case that
//! fails without being listed in known_differences.toml, or passes while listed; prints the
//! table per module and writes it to target/postgrest-spec.md.
use futures_util::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use tenancy_e2e::postgrest_spec::case::{load_modules, Case, Module};
use tenancy_e2e::postgrest_spec::expect::mismatches;
use tenancy_e2e::postgrest_spec::run::{self, SPEC_JWT_SECRET};
use tenancy_e2e::postgrest_spec::spec_dir;
use tenancy_e2e::postgrest_spec::verdict::{load_known, rate, render_known, Outcome, Verdict};
use tenancy_e2e::{api, ScratchDatabase};

/// Requests in flight at once: enough to finish well inside CI's budget on two cores.
const IN_FLIGHT: usize = 8;

/// One server per kind of configuration the cases ask for, started on first use.
struct Servers {
    db_uri: String,
    started: BTreeMap<BTreeMap<String, String>, String>,
}

impl Servers {
    /// PostgREST's `baseCfg` in our server's variables, with the case's differences on top.
    async fn url_for(&mut self, differences: &BTreeMap<String, String>) -> String {
        if let Some(url) = self.started.get(differences) {
            return url.clone();
        }
        let mut vars: BTreeMap<&str, &str> = [
            ("PGRST_DB_URI", self.db_uri.as_str()),
            ("PGRST_DB_SCHEMAS", "test"),
            ("PGRST_DB_ANON_ROLE", "postgrest_test_anonymous"),
            ("PGRST_JWT_SECRET", SPEC_JWT_SECRET),
            ("PGRST_DB_TX_END", "rollback-allow-override"),
            ("PGRST_DB_PRE_REQUEST", "test.switch_role"),
            ("TENANCY_MAX_BODY_BYTES", "1048576"),
            ("PGRST_APP_SETTINGS_APP_HOST", "localhost"),
            ("PGRST_APP_SETTINGS_EXTERNAL_API_SECRET", "0123456789abcdef"),
        ]
        .into_iter()
        .collect();
        for (name, value) in differences {
            vars.insert(name, value);
        }
        let vars: Vec<(&str, &str)> = vars.into_iter().collect();
        let url = api::start_with(&vars).await.url;
        self.started.insert(differences.clone(), url.clone());
        url
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgrest_spec() {
    let scratch = ScratchDatabase::create("pgrst_spec").await;
    load_fixtures(&scratch).await;
    let mut servers = Servers {
        db_uri: scratch.url().replacen("postgres@", "postgrest_test_authenticator@", 1),
        started: BTreeMap::new(),
    };

    let dir = spec_dir();
    let known = load_known(&dir.join("known_differences.toml"));
    let http = reqwest::Client::new();
    let mut verdict = Verdict::default();
    for module in load_modules(&dir.join("cases")) {
        for (case, outcome) in run_module(&module, &mut servers, &http).await {
            verdict.record(&module, &case.spec, outcome, &known);
        }
    }

    let table = verdict.table();
    println!("PostgREST's spec against our server:\n\n{table}");
    println!("Core pass rate: {}", rate(&verdict.core()));
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

/// Every case of a module, eight at a time; an `it` that commits runs alone, in order, once the
/// rest is done: what it changes (and undoes) must not be seen by a case running beside it.
async fn run_module<'m>(module: &'m Module, servers: &mut Servers, http: &reqwest::Client) -> Vec<(&'m Case, Outcome)> {
    let mut urls = Vec::with_capacity(module.cases.len());
    for case in &module.cases {
        urls.push(servers.url_for(&case.server).await);
    }
    let committing: HashSet<&str> = module.cases.iter().filter(|c| c.commits()).map(|c| c.name.as_str()).collect();
    let (alone, together): (Vec<_>, Vec<_>) =
        module.cases.iter().zip(&urls).partition(|(case, _)| committing.contains(case.name.as_str()));
    let mut outcomes: Vec<(&Case, Outcome)> = stream::iter(together)
        .map(|(case, url)| async move { (case, outcome(http, url, case).await) })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    for (case, url) in alone {
        outcomes.push((case, outcome(http, url, case).await));
    }
    outcomes
}

async fn outcome(http: &reqwest::Client, url: &str, case: &Case) -> Outcome {
    if case.skip.is_some() {
        return Outcome::Skipped;
    }
    let answer = run::send(http, url, case).await;
    // POSTGREST_SPEC_SHOW=<case id>: the whole answer of one case, to see why it differs.
    if std::env::var("POSTGREST_SPEC_SHOW").is_ok_and(|id| id == case.spec) {
        println!("{case:#?}\n{} {:?}\n{}", answer.status, answer.headers, String::from_utf8_lossy(&answer.body));
    }
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
    // PostgREST's test setup analyzes the loaded fixtures: `count=planned` reports estimates.
    db.batch_execute("VACUUM ANALYZE").await.unwrap();
}
