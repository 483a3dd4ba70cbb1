//! Renaming a column or table that exists: every client (and the REST API's URLs) that names
//! it breaks the moment the migration commits.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "column-or-table-renamed",
        severity: Severity::Warning,
        summary: "a column or table renamed that is not new",
        hint: "add the new name beside the old (a new column, or a view with the new name), move clients, then drop the old",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let NodeEnum::RenameStmt(rename) = context.statement else { return };
    let Some(relation) = &rename.relation else { return };
    let table = QualifiedName::of(relation);
    if !context.is_existing(&table) {
        return;
    }
    let message = match rename.rename_type() {
        ObjectType::ObjectTable => format!("renames existing table {table} to {}", rename.newname),
        ObjectType::ObjectColumn => {
            format!("renames column {} of existing table {table} to {}", rename.subname, rename.newname)
        }
        _ => return,
    };
    out.push(Violation::at_relation(relation, message));
}
