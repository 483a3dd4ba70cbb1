//! `ADD COLUMN ... NOT NULL` without a default on a table that has rows: it fails on the first
//! row, after taking an exclusive lock.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use pg_query::protobuf::{AlterTableType, ConstrType};
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "not-null-column-without-default",
        severity: Severity::Warning,
        summary: "ADD COLUMN ... NOT NULL without a default on a table that is not new",
        hint: "give it a DEFAULT (a constant default is instant), or add it nullable, backfill, then SET NOT NULL",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let Some((relation, commands)) = tree::alter_table(context.statement) else { return };
    let table = QualifiedName::of(relation);
    if !context.is_existing(&table) {
        return;
    }
    for (kind, command) in commands {
        let (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(column))) =
            (kind, command.def.as_ref().and_then(|d| d.node.as_ref()))
        else {
            continue;
        };
        let kinds: Vec<ConstrType> = column
            .constraints
            .iter()
            .filter_map(|n| match &n.node {
                Some(NodeEnum::Constraint(c)) => Some(c.contype()),
                _ => None,
            })
            .collect();
        let not_null = column.is_not_null || kinds.contains(&ConstrType::ConstrNotnull);
        let filled = [ConstrType::ConstrDefault, ConstrType::ConstrIdentity, ConstrType::ConstrGenerated]
            .iter()
            .any(|k| kinds.contains(k));
        if not_null && !filled {
            let message =
                format!("adds NOT NULL column {} without a default to existing table {table}", column.colname);
            out.push(Violation::at(column.location, message));
        }
    }
}
