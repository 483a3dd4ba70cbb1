//! `ALTER COLUMN ... TYPE` on a table that has rows: most changes rewrite the table and its
//! indexes under an exclusive lock, and clients reading the old type break.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use pg_query::protobuf::AlterTableType;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "column-type-changed",
        severity: Severity::Warning,
        summary: "ALTER COLUMN ... TYPE on a table that is not new",
        hint: "add a column of the new type, backfill it in batches, switch readers, then drop the old one",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let Some((relation, commands)) = tree::alter_table(context.statement) else { return };
    let table = QualifiedName::of(relation);
    for (kind, command) in commands {
        if kind == AlterTableType::AtAlterColumnType && context.is_existing(&table) {
            let message = format!("changes the type of column {} of existing table {table}", command.name);
            out.push(Violation::at_relation(relation, message));
        }
    }
}
