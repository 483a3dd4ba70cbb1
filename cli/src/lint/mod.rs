//! `tenancy lint`'s engine. Every file goes through PostgreSQL's own parser (pg_query); what
//! exists before the run and what the whole run does to tables is gathered first (the catalog),
//! then every rule looks at every statement; suppressions are applied last. The linter returns a
//! report; `report/` renders it.
mod catalog;
mod constraints;
mod existing;
mod finding;
pub mod live;
mod location;
mod names;
mod parse;
mod protect_call;
pub mod report;
mod rules;
mod suppression;
mod syntax_error;
pub(crate) mod tree;

pub use existing::Existing;
pub use finding::{Finding, Report, RuleInfo, Severity};

use catalog::{Catalog, Position};
use location::LineIndex;

/// What a file is to the run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// A migration already applied (or a file given to `--applied`): read for the tables it
    /// creates and protects, never reported on.
    Applied,
    Migration,
    /// A policies/ file: the one place a tenant table's policies may change.
    Policy,
}

pub struct Source {
    /// How findings name the file.
    pub name: String,
    pub text: String,
    pub role: Role,
}

const SYNTAX_ERROR: RuleInfo = RuleInfo {
    id: "syntax-error",
    severity: Severity::Error,
    summary: "a statement PostgreSQL cannot parse",
    hint: "PostgreSQL cannot parse this statement; fix it (the message is the parser's)",
};

/// Every rule a report can name, in the order the README lists them.
pub fn all_rules() -> impl Iterator<Item = &'static RuleInfo> {
    rules::ALL.iter().map(|r| &r.info).chain([&SYNTAX_ERROR, &suppression::INVALID, &suppression::UNUSED])
}

/// Lints the sources as one run, in order, over what exists before it: tables that exist (or
/// that applied sources create) may hold rows, tables created earlier in the run are new, a
/// table protected in the database or anywhere in the run is protected.
pub fn lint(sources: &[Source], existing: &Existing) -> Report {
    let parsed: Vec<_> = sources.iter().map(|s| parse::parse_file(&s.text)).collect();
    let roles: Vec<_> = sources.iter().map(|s| s.role).zip(&parsed).collect();
    let catalog = Catalog::build(existing, &roles);
    let mut findings = vec![];
    for (file, (source, parsed)) in sources.iter().zip(&parsed).enumerate() {
        if source.role != Role::Applied {
            findings.extend(lint_file(source, parsed, file, &catalog));
        }
    }
    let files_applied = sources.iter().filter(|s| s.role == Role::Applied).count();
    Report { findings, files_linted: sources.len() - files_applied, files_applied }
}

fn lint_file(source: &Source, parsed: &parse::ParsedFile, file: usize, catalog: &Catalog) -> Vec<Finding> {
    let lines = LineIndex::new(&source.text);
    let finding = |offset: usize, rule: &'static RuleInfo, message: String| {
        let (line, column) = lines.position(offset);
        Finding { file: source.name.clone(), line, column, rule, message }
    };
    let mut findings: Vec<Finding> =
        parsed.syntax_errors.iter().map(|e| finding(e.offset, &SYNTAX_ERROR, e.message.clone())).collect();

    let (suppressions, invalid) = suppression::read_all(&parsed.comments, &parsed.statements, &lines);
    findings.extend(invalid.into_iter().map(|i| finding(i.offset, &suppression::INVALID, i.message)));
    let mut used = vec![false; suppressions.len()];
    let mut role_switched_earlier = false;
    for (index, statement) in parsed.statements.iter().enumerate() {
        let at = Position { file, statement: index };
        let context = rules::Context {
            statement: &statement.node,
            at,
            role: source.role,
            catalog,
            role_switched_earlier,
            last_in_file: index + 1 == parsed.statements.len(),
        };
        role_switched_earlier |= matches!(tree::role_change(&statement.node), Some(tree::RoleChange::To(_)));
        for (rule, violation) in rules::check(&context) {
            let suppressed = suppressions.iter().position(|s| s.statement == Some(index) && s.rule.id == rule.id);
            match suppressed {
                Some(s) => used[s] = true,
                None => {
                    findings.push(finding(violation.offset.unwrap_or(statement.span.start), rule, violation.message))
                }
            }
        }
    }
    for (suppression, _) in suppressions.iter().zip(used).filter(|(_, used)| !used) {
        let message = format!("nothing here breaks {}; the suppression does nothing", suppression.rule.id);
        findings.push(finding(suppression.offset, &suppression::UNUSED, message));
    }
    findings.sort_by_key(|f| (f.line, f.column));
    findings
}
