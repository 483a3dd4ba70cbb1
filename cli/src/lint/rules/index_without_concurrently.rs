//! `CREATE INDEX` without `CONCURRENTLY` on a table that already has rows: writes wait for the
//! whole build. A warning, since refinery runs migrations in a transaction, where CONCURRENTLY
//! is not allowed: the fix is a step outside the migration, or a reasoned suppression.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "index-without-concurrently",
        severity: Severity::Warning,
        summary: "CREATE INDEX without CONCURRENTLY on a table that is not new",
        hint: "on a large table build it first with CREATE INDEX CONCURRENTLY (outside the migration, which runs in a \
               transaction) and make the migration's CREATE INDEX IF NOT EXISTS; or suppress with why the table is small",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let NodeEnum::IndexStmt(index) = context.statement else { return };
    let Some(relation) = &index.relation else { return };
    let table = QualifiedName::of(relation);
    if !index.concurrent && context.is_existing(&table) {
        out.push(Violation::at_relation(
            relation,
            format!("builds an index on existing table {table}, blocking its writes"),
        ));
    }
}
