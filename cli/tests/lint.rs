//! `tenancy lint` as a DBA runs it: the built binary over the corpus in `lint_corpus/`, where
//! every file says what it must report (`-- expect: <rule-id> at <line>:<column>`, or
//! `-- expect: clean`), and over the project's own migrations and policies.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    "index-without-concurrently",
    "not-null-column-without-default",
    "constraint-without-not-valid",
    "column-type-changed",
    "column-or-table-renamed",
    "column-or-table-dropped",
    "invalid-suppression",
    "unused-suppression",
    "syntax-error",
];

fn lint<I: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = I>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenancy")).arg("lint").args(args).output().expect("run tenancy lint")
}

fn project(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir)
}

/// (rule, line, column) of every finding line: `file:line:column rule-id severity: message`.
fn findings(output: &Output) -> Vec<(String, usize, usize)> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut found: Vec<_> = stdout
        .lines()
        .filter_map(|line| {
            let (place, rest) = line.split_once(' ')?;
            let mut parts = place.rsplitn(3, ':');
            let column = parts.next()?.parse().ok()?;
            let line_no = parts.next()?.parse().ok()?;
            Some((rest.split_whitespace().next()?.to_string(), line_no, column))
        })
        .collect();
    found.sort();
    found
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
    let missing: Vec<_> = RULES.iter().filter(|r| !expected.iter().any(|e| e == *r)).collect();
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
    for output in [lint(Vec::<&str>::new()), lint([project("migrations"), project("policies")])] {
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.ends_with("file(s) linted, no findings\n") && stdout.lines().count() == 1, "{stdout}");
    }
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
