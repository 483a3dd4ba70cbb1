//! `tenancy lint` under mutated and arbitrary SQL: the statements and files of the lint corpus,
//! the migrations and the policies, mutated (see tenancy_e2e::fuzz), linted as a migration, a
//! policy file or an applied migration. Findings are answers; a panic fails the test with the
//! shrunk input, and so does a finding that points outside the file. `PROPTEST_CASES` sets how
//! many inputs (bench/fuzz.sh runs millions).
use proptest::prelude::*;
use std::path::Path;
use tenancy_cli::lint::{self, Existing, Role, Source};
use tenancy_e2e::fuzz;

/// Seeds of inputs that once failed, tried first (proptest writes them; commit them).
const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_lint_parser.proptest-regressions");

/// SQL's tokens and the linter's own words, `|`-separated, dropped into inputs at random places.
const SQL_TOKENS: &str = "\
;|(|)|,|'|\"|$$|$x$|E'\\|U&'|--|/*|*/|\n| |::|=|é|\u{0}|\
-- tenancy-lint: allow unprotected-table -- why\n|-- tenancy-lint: allow\n|-- tenancy-lint: nonsense\n|\
CREATE TABLE |ALTER TABLE |DROP TABLE |CREATE INDEX |CONCURRENTLY |ADD COLUMN |NOT NULL |DEFAULT |\
PRIMARY KEY |REFERENCES |FOREIGN KEY |NOT VALID |tenant_id |uuid |text |ENABLE ROW LEVEL SECURITY|\
DISABLE ROW LEVEL SECURITY|CREATE POLICY |DROP POLICY |GRANT |TO PUBLIC|BYPASSRLS|SECURITY DEFINER|\
SET search_path = |CREATE VIEW |WITH (security_invoker) |AS SELECT |SELECT tenancy.protect('|\
set_config('tenancy.tenant_id', |RENAME |TYPE bigint|hrms.employees|DO $$ BEGIN | END $$|\
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS ";

/// Every .sql file under `dirs` (relative to the workspace), with each of its statements as a
/// seed of its own: small inputs run fast, whole files keep suppressions and catalogs in play.
fn seeds(dirs: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![];
    for dir in dirs {
        collect_sql(&root.join(dir), &mut files);
    }
    let mut seeds = vec![];
    for text in files {
        if let Ok(statements) = pg_query::split_with_scanner(&text) {
            seeds.extend(statements.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
        }
        seeds.push(text);
    }
    seeds
}

fn collect_sql(dir: &Path, files: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("a seed directory").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_sql(&path, files);
        } else if path.extension().is_some_and(|e| e == "sql") {
            files.push(std::fs::read_to_string(&path).expect("a readable seed"));
        }
    }
}

/// A finding's line exists and its column is at most one past that line's last character.
fn points_inside(text: &str, line: usize, column: usize) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    line >= 1 && line <= lines.len() && column >= 1 && column <= lines[line - 1].chars().count() + 1
}

#[test]
fn linter_never_panics() {
    let seeds = seeds(&["cli/tests/lint_corpus", "migrations", "policies"]);
    let roles = prop::sample::select(vec![Role::Migration, Role::Policy, Role::Applied]);
    fuzz::run(
        "lint parser",
        REGRESSIONS,
        (fuzz::inputs(seeds, SQL_TOKENS.split('|').map(String::from).collect()), roles),
        |(text, role)| {
            let source = Source { name: "fuzz.sql".into(), text: text.clone(), role: *role };
            for finding in lint::lint(&[source], &Existing::default()).findings {
                assert!(
                    points_inside(text, finding.line, finding.column),
                    "{}:{} is outside the input",
                    finding.line,
                    finding.column
                );
            }
        },
    );
}
