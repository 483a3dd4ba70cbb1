//! A primary key, unique constraint or unique index on a tenant table that leaves out
//! `tenant_id`: one tenant's row then blocks another's (a duplicate key tells who has which
//! value), and `tenancy.protect` refuses the table.
use super::{Context, Rule, Violation};
use crate::lint::catalog::TENANT_ID;
use crate::lint::constraints;
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "key-without-tenant-id",
        severity: Severity::Error,
        summary: "a primary key, unique constraint or unique index of a tenant table without tenant_id",
        hint: "lead the key with tenant_id: PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, email)",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    for key in constraints::of_statement(context.statement) {
        let what = match key.constraint.contype() {
            ConstrType::ConstrPrimary => "primary key",
            ConstrType::ConstrUnique => "unique constraint",
            _ => continue,
        };
        // `USING INDEX` names no columns here; the index was checked where it was created.
        let leaves_out = !key.columns.is_empty() && !key.columns.iter().any(|c| c == TENANT_ID);
        if leaves_out && context.catalog.is_tenant_table(&key.table) {
            let message =
                format!("{what} ({}) of tenant table {} leaves out tenant_id", key.columns.join(", "), key.table);
            out.push(Violation::at(key.constraint.location, message));
        }
    }
    if let NodeEnum::IndexStmt(index) = context.statement {
        let Some(relation) = index.relation.as_ref().filter(|_| index.unique || index.primary) else { return };
        let table = QualifiedName::of(relation);
        let columns: Vec<&str> = index
            .index_params
            .iter()
            .filter_map(|n| match &n.node {
                Some(NodeEnum::IndexElem(e)) if e.name.is_empty() => Some("(expression)"),
                Some(NodeEnum::IndexElem(e)) => Some(e.name.as_str()),
                _ => None,
            })
            .collect();
        if !columns.contains(&TENANT_ID) && context.catalog.is_tenant_table(&table) {
            let message = format!("unique index on tenant table {table} ({}) leaves out tenant_id", columns.join(", "));
            out.push(Violation::at_relation(relation, message));
        }
    }
}
