//! `tenancy lint` as a DBA runs it: the built binary over the corpus in `lint_corpus/`, where
//! every file says what it must report (`-- expect: <rule-id> at <line>:<column>`, or
//! `-- expect: clean`), over the project's own migrations and policies, and over changes to
//! tables that already exist (`lint_corpus/existing_tables/`), which must be linted the same
//! against a database, offline with `--applied`, and by `tenancy migrate`.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tenancy_e2e::ScratchDatabase;

mod common;
use common::{assert_ok, tenancy};

const RULES: &[&str] = &[
    "unprotected-table",
    "rls-disabled",
    "policy-outside-policies",
    "key-without-tenant-id",
    "foreign-key-without-tenant-id",
    "grant-to-public",
    "view-without-security-invoker",
    "security-definer-without-search-path",
    "bypassrls-granted",
    "tenant-context-set-by-hand",
    "restrictive-policy",
    "role-switch-on-citus",
    "sql-function-on-citus",
    "index-without-concurrently",
    "not-null-column-without-default",
    "constraint-without-not-valid",
    "column-type-changed",
    "column-or-table-renamed",
    "column-or-table-dropped",
    "column-without-analytics-class",
    "syntax-error",
    "invalid-suppression",
    "unused-suppression",
];

/// Rules that need a live distributed Citus database; their bad examples are in citus_*.rs.
const ONLY_AGAINST_CITUS: &[&str] = &["role-switch-on-citus", "sql-function-on-citus"];

/// A change to hrms.employees (created by the migrations, protected by the policies).
const CHANGE: &str = "tests/lint_corpus/existing_tables/V13__change.sql";
/// A column added to hrms.employees, which analytics reads once its columns have classes.
const NEW_COLUMN: &str = "tests/lint_corpus/existing_tables/V14__employee_shift.sql";
const ANALYTICS_POLICIES: &str = "tests/lint_corpus/existing_tables/policies";
const APPLIED_PROJECT: [&str; 4] = ["--applied", "../migrations", "--applied", "../policies"];

/// `tenancy lint ARGS` from the crate's directory (relative paths stay relative in the output),
/// against `database` or offline.
fn lint_with<I: AsRef<std::ffi::OsStr>>(database: Option<&str>, args: impl IntoIterator<Item = I>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenancy"));
    command.current_dir(env!("CARGO_MANIFEST_DIR")).arg("lint").args(args);
    match database {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    command.output().expect("run tenancy lint")
}

/// Offline: no database, whatever the environment says.
fn lint<I: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = I>) -> Output {
    lint_with(None, args)
}

fn project(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir)
}

/// A file of the crate, by its path from the crate's directory.
fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap()
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// (rule, line, column, message) of every finding line of `file` (all files when empty):
/// `file:line:column rule-id severity: message`.
fn findings_in(output: &str, file: &str) -> Vec<(String, usize, usize, String)> {
    let mut found: Vec<_> = output
        .lines()
        .filter_map(|line| {
            let (place, rest) = line.split_once(' ')?;
            let mut parts = place.rsplitn(3, ':');
            let column = parts.next()?.parse().ok()?;
            let line_no = parts.next()?.parse().ok()?;
            if !parts.next()?.ends_with(file) {
                return None;
            }
            let (rule, message) = rest.split_once(' ')?;
            let message = message.split_once(": ")?.1;
            Some((rule.to_string(), line_no, column, message.to_string()))
        })
        .collect();
    found.sort();
    found
}

/// (rule, line, column) of every finding line.
fn findings(output: &Output) -> Vec<(String, usize, usize)> {
    findings_in(&text(output), "").into_iter().map(|(rule, line, column, _)| (rule, line, column)).collect()
}

fn expectations(text: &str) -> Vec<(String, usize, usize)> {
    let mut expected: Vec<_> = text
        .lines()
        .filter_map(|l| l.strip_prefix("-- expect: "))
        .filter(|e| *e != "clean")
        .map(|e| {
            let (rule, at) = e.split_once(" at ").unwrap_or_else(|| panic!("bad expectation {e:?}"));
            let (line, column) = at.split_once(':').unwrap();
            (rule.to_string(), line.parse().unwrap(), column.parse().unwrap())
        })
        .collect();
    expected.sort();
    expected
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint_corpus");
    let mut files: Vec<PathBuf> = [dir.clone(), dir.join("policies")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_reports_exactly_what_it_expects() {
    let mut failures = vec![];
    for file in corpus() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("-- expect: "), "{} declares no expectation", file.display());
        let output = lint([&file]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", file.display());
        let (expected, found) = (expectations(&text), findings(&output));
        let any_error = String::from_utf8_lossy(&output.stdout).lines().any(|l| l.contains(" error: "));
        let exit = output.status.code();
        if found != expected || exit != Some(if any_error { 1 } else { 0 }) {
            failures.push(format!(
                "{}: expected {expected:?}, found {found:?} (exit {exit:?})\n{}",
                file.display(),
                String::from_utf8_lossy(&output.stdout)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_bad_example_in_the_corpus() {
    let expected: Vec<String> =
        corpus().iter().flat_map(|f| expectations(&std::fs::read_to_string(f).unwrap())).map(|e| e.0).collect();
    let missing: Vec<_> =
        RULES.iter().filter(|r| !expected.iter().any(|e| e == *r) && !ONLY_AGAINST_CITUS.contains(r)).collect();
    assert!(missing.is_empty(), "no corpus file expects {missing:?}");
}

#[test]
fn error_findings_exit_1_and_warnings_alone_exit_0() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint_corpus");
    assert_eq!(lint([dir.join("rls_disabled.sql")]).status.code(), Some(1));
    assert_eq!(lint([dir.join("column_type_changed.sql")]).status.code(), Some(0));
    assert_eq!(lint([dir.join("syntax_error.sql")]).status.code(), Some(1));
}

#[test]
fn the_project_migrations_and_policies_lint_clean() {
    let dev = tenancy_e2e::test_database_url();
    let runs = [
        lint(Vec::<&str>::new()),
        lint([project("migrations"), project("policies")]),
        // Against the dev database the migrations are applied: read, not reported on.
        lint_with(Some(&dev), Vec::<&str>::new()),
        lint_with(Some(&dev), [project("migrations"), project("policies")]),
    ];
    for output in runs {
        assert_eq!(output.status.code(), Some(0), "{}{}", text(&output), String::from_utf8_lossy(&output.stderr));
        let stdout = text(&output);
        assert!(stdout.ends_with(", no findings\n") && stdout.lines().count() == 1, "{stdout}");
    }
    let against_dev = text(&lint_with(Some(&dev), [project("migrations"), project("policies")]));
    let policies = std::fs::read_dir(project("policies")).unwrap().count();
    assert!(against_dev.starts_with(&format!("{policies} file(s) linted (")), "{against_dev}");
}

#[test]
fn the_project_migrations_without_their_policies_leave_every_table_unprotected() {
    let output = lint([project("migrations")]);
    assert_eq!(output.status.code(), Some(1));
    let unprotected = findings(&output).iter().filter(|f| f.0 == "unprotected-table").count();
    let protect_calls: usize = std::fs::read_dir(project("policies"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap().matches("tenancy.protect(").count())
        .sum();
    assert_eq!(unprotected, protect_calls, "{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn a_file_that_cannot_be_read_exits_2_and_the_others_are_still_linted() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint_corpus");
    let output = lint([dir.join("no_such_file.sql"), dir.join("rls_disabled.sql")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no_such_file.sql: cannot read"));
    assert_eq!(findings(&output).iter().filter(|f| f.0 == "rls-disabled").count(), 2);
}

#[test]
fn a_directory_without_sql_files_is_a_usage_error() {
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("notes.txt"), "not SQL").unwrap();
    for args in [vec![empty.path().to_str().unwrap()], vec!["--applied", empty.path().to_str().unwrap(), CHANGE]] {
        let output = lint(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("no .sql files found in {}", empty.path().display())), "{stderr}");
    }
}

#[test]
fn a_database_that_cannot_be_reached_is_an_error_not_an_offline_run() {
    let output = lint_with(Some("postgres://postgres@127.0.0.1:1/tenancy"), [CHANGE]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot connect to PostgreSQL"));
    assert_eq!(text(&output), "");
}

/// Applied versions, and whether hrms.employees is as the migrations left it.
async fn deployed_state(db: &ScratchDatabase) -> (i64, bool, bool) {
    let db = db.connect().await;
    let history = db.query_one("SELECT count(*) FROM refinery_schema_history", &[]).await.unwrap().get(0);
    let rls = db
        .query_one("SELECT relrowsecurity FROM pg_class WHERE oid = 'hrms.employees'::regclass", &[])
        .await
        .unwrap()
        .get(0);
    let badge = db
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'hrms.employees'::regclass AND attname = 'badge_number')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    (history, rls, badge)
}

#[tokio::test]
async fn a_change_is_linted_the_same_against_the_database_with_applied_files_and_by_migrate() {
    let expected = expectations(&read(CHANGE));

    // Alone, against the dev database: its catalog says hrms.employees exists and is protected.
    let alone = lint_with(Some(&tenancy_e2e::test_database_url()), [CHANGE]);
    // Offline, with what has run.
    let offline = lint(APPLIED_PROJECT.iter().copied().chain([CHANGE]));
    for output in [&alone, &offline] {
        assert_eq!(output.status.code(), Some(1), "{}{}", text(output), String::from_utf8_lossy(&output.stderr));
    }

    // Through migrate, on a database deployed from the project: refused, nothing applied.
    let db = ScratchDatabase::create("lint_change").await;
    assert_ok(&tenancy(&db.url(), &["migrate"]));
    let before = deployed_state(&db).await;
    assert_eq!((before.1, before.2), (true, false));
    let migrations = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(project("migrations")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, migrations.path().join(path.file_name().unwrap())).unwrap();
    }
    let change = read(CHANGE);
    std::fs::write(migrations.path().join("V1000__change.sql"), change).unwrap();
    let migrate = tenancy(
        &db.url(),
        &[
            "migrate",
            "--migrations",
            migrations.path().to_str().unwrap(),
            "--policies",
            project("policies").to_str().unwrap(),
        ],
    );
    let migrate_output = String::from_utf8_lossy(&migrate.stderr).into_owned();
    assert_eq!(migrate.status.code(), Some(1), "{migrate_output}");
    assert!(migrate_output.contains("nothing was applied"), "{migrate_output}");
    assert_eq!(deployed_state(&db).await, before);

    let (alone, offline) = (findings_in(&text(&alone), CHANGE), findings_in(&text(&offline), CHANGE));
    let migrated = findings_in(&migrate_output, "V1000__change.sql");
    assert_eq!(alone, offline);
    assert_eq!(alone, migrated);
    let positions: Vec<_> = alone.into_iter().map(|(rule, line, column, _)| (rule, line, column)).collect();
    assert_eq!(positions, expected);
}

#[test]
fn json_output_carries_every_finding_and_the_counts() {
    let output = lint(APPLIED_PROJECT.iter().copied().chain(["--format", "json", CHANGE]));
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    let text_output = lint(APPLIED_PROJECT.iter().copied().chain([CHANGE]));
    let in_text = findings_in(&text(&text_output), CHANGE);
    let findings = json["findings"].as_array().unwrap();
    let in_json: Vec<_> = findings
        .iter()
        .map(|f| {
            assert_eq!(f["file"], CHANGE);
            assert!(f["hint"].as_str().is_some_and(|h| !h.is_empty()));
            let rule = f["rule"].as_str().unwrap().to_string();
            let position = |key: &str| f[key].as_u64().unwrap() as usize;
            (rule, position("line"), position("column"), f["message"].as_str().unwrap().to_string())
        })
        .collect();
    let mut in_json = in_json;
    in_json.sort();
    assert_eq!(in_json, in_text);
    assert_eq!((json["errors"].as_u64(), json["warnings"].as_u64()), (Some(4), Some(3)));
    let errors = findings.iter().filter(|f| f["severity"] == "error").count();
    let warnings = findings.iter().filter(|f| f["severity"] == "warning").count();
    assert_eq!((errors, warnings), (4, 3));
    assert!(text(&text_output).ends_with("4 error(s), 3 warning(s)\n"));
    assert_eq!(json["files_linted"], 1);
    let applied = std::fs::read_dir(project("migrations")).unwrap().count()
        + std::fs::read_dir(project("policies")).unwrap().count();
    assert_eq!(json["files_applied"].as_u64(), Some(applied as u64));
}

#[test]
fn sarif_output_is_what_code_scanning_reads() {
    let output = lint(APPLIED_PROJECT.iter().copied().chain(["--format", "sarif", CHANGE]));
    assert_eq!(output.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().ends_with("sarif-schema-2.1.0.json"));
    let run = &sarif["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "tenancy lint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut known = RULES.to_vec();
    known.sort();
    assert_eq!(ids, known, "every rule is described once");
    for rule in rules {
        assert!(rule["shortDescription"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{rule}");
        assert!(rule["help"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{rule}");
        assert!(["error", "warning"].contains(&rule["defaultConfiguration"]["level"].as_str().unwrap()), "{rule}");
    }

    let text_output = lint(APPLIED_PROJECT.iter().copied().chain([CHANGE]));
    let in_text = findings_in(&text(&text_output), CHANGE);
    let mut in_sarif: Vec<_> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
            assert_eq!(rule["defaultConfiguration"]["level"], r["level"]);
            let location = &r["locations"][0]["physicalLocation"];
            assert_eq!(location["artifactLocation"]["uri"], CHANGE);
            let position = |key: &str| location["region"][key].as_u64().unwrap() as usize;
            let message = r["message"]["text"].as_str().unwrap().to_string();
            (r["ruleId"].as_str().unwrap().to_string(), position("startLine"), position("startColumn"), message)
        })
        .collect();
    in_sarif.sort();
    assert_eq!(in_sarif, in_text);
}

#[test]
fn text_output_renders_as_its_snapshots() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in corpus() {
        let relative = file.strip_prefix(manifest).unwrap();
        let name = relative.file_stem().unwrap().to_str().unwrap();
        insta::assert_snapshot!(format!("corpus_{name}"), text(&lint([relative])));
    }
    insta::assert_snapshot!("change_to_existing_tables", text(&lint(APPLIED_PROJECT.iter().copied().chain([CHANGE]))));
}

#[test]
fn a_column_added_to_a_table_analytics_reads_needs_a_class_offline() {
    let expected = expectations(&read(NEW_COLUMN));
    // Declared by the applied policies: a warning, exit 0.
    let output = lint(["--applied", "../migrations", "--applied", ANALYTICS_POLICIES, NEW_COLUMN]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(findings(&output), expected);
    // Without declarations (here: without any policies) the table is not exposed: nothing to say.
    let output = lint(["--applied", "../migrations", NEW_COLUMN]);
    assert_eq!(findings(&output), vec![], "{}", text(&output));
}

/// Declares `columns` of hrms.employees in the database, as `tenancy.protect(..., analytics => ...)`
/// records them; where the installed extension predates the catalog table, it is made here
/// with the same columns.
async fn declare_analytics(db: &ScratchDatabase, columns: &[&str]) {
    let db = db.connect().await;
    db.batch_execute(
        "CREATE TABLE IF NOT EXISTS tenancy.analytics_columns (tbl regclass, col name, class text, extremes bool, reason text);
         DELETE FROM tenancy.analytics_columns WHERE tbl = 'hrms.employees'::regclass",
    )
    .await
    .unwrap();
    for column in columns {
        db.execute(
            "INSERT INTO tenancy.analytics_columns (tbl, col, class, extremes, reason)
             VALUES ('hrms.employees'::regclass, $1::text::name, 'dimension', false, 'test')",
            &[column],
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_column_added_to_a_table_analytics_reads_needs_a_class_against_the_database() {
    let db = common::migrated_database("lint_analytics").await;
    declare_analytics(&db, &[]).await;
    let output = lint_with(Some(&db.url()), [NEW_COLUMN]);
    assert_eq!(findings(&output), vec![], "not exposed: {}", text(&output));

    declare_analytics(&db, &["job_title"]).await;
    let output = lint_with(Some(&db.url()), [NEW_COLUMN]);
    assert_eq!(output.status.code(), Some(0), "a warning never refuses: {}", text(&output));
    let expected = expectations(&read(NEW_COLUMN));
    assert_eq!(findings(&output), expected);
}

#[tokio::test]
async fn a_database_without_the_extension_or_history_knows_nothing_and_says_nothing_more() {
    let empty = ScratchDatabase::create("lint_empty").await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenancy"));
    let against_empty = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .args(["--database-url", &empty.url(), "lint", CHANGE])
        .output()
        .unwrap();
    let alone_offline = lint([CHANGE]);
    assert_eq!(against_empty.status.code(), Some(0), "{}", String::from_utf8_lossy(&against_empty.stderr));
    assert_eq!(text(&against_empty), text(&alone_offline));
    // Nothing tells that hrms.employees is a tenant table: only the lock rules speak.
    let rules: Vec<String> = findings(&against_empty).into_iter().map(|f| f.0).collect();
    assert_eq!(rules, ["index-without-concurrently", "not-null-column-without-default"]);
}
