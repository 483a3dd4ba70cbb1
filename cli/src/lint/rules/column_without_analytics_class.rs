//! A column added to a table analytics reads (its `tenancy.protect(..., analytics => ...)` declares
//! column classes) without a class of its own. Undeclared means private, which is safe: this is
//! a reminder that the column cannot be grouped, filtered or summed until someone classifies it.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "column-without-analytics-class",
        severity: Severity::Warning,
        summary: "a column added to an analytics-exposed table without an analytics class",
        hint:
            "declare it in the table's tenancy.protect(..., analytics => '{\"<column>\": \"dimension\" | \"measure\" | \
               \"private\"}') in its policies/ file; until then it is private",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let Some((relation, commands)) = tree::alter_table(context.statement) else { return };
    let table = QualifiedName::of(relation);
    let Some(declared) = context.catalog.analytics_columns(&table) else { return };
    for (kind, command) in commands {
        let (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(column))) =
            (kind, command.def.as_ref().and_then(|d| d.node.as_ref()))
        else {
            continue;
        };
        if !declared.contains(&column.colname) {
            let message = format!(
                "adds column {} to {table}, which analytics reads, without an analytics class (it stays private)",
                column.colname
            );
            out.push(Violation::at(column.location, message));
        }
    }
}
