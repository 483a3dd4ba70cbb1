//! Dropping a column or table that exists: clients still using it break, and the data is gone
//! with no way back but a restore.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use pg_query::protobuf::{AlterTableType, ObjectType};
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "column-or-table-dropped",
        severity: Severity::Warning,
        summary: "a column or table dropped that is not new",
        hint: "stop every reader and writer first (one release earlier), keep a backup, then suppress with the reason",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    match context.statement {
        NodeEnum::DropStmt(drop) if drop.remove_type() == ObjectType::ObjectTable => {
            for object in &drop.objects {
                let Some(NodeEnum::List(names)) = &object.node else { continue };
                let Some(table) = QualifiedName::from_parts(&tree::strings(&names.items)) else { continue };
                if context.is_existing(&table) {
                    out.push(Violation::at_statement(format!("drops existing table {table}")));
                }
            }
        }
        NodeEnum::AlterTableStmt(_) => {
            let Some((relation, commands)) = tree::alter_table(context.statement) else { return };
            let table = QualifiedName::of(relation);
            for (kind, command) in commands {
                if kind == AlterTableType::AtDropColumn && context.is_existing(&table) {
                    let message = format!("drops column {} of existing table {table}", command.name);
                    out.push(Violation::at_relation(relation, message));
                }
            }
        }
        _ => {}
    }
}
