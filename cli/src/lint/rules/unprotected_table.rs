//! A table created in an application schema and never passed to `tenancy.protect` in the run:
//! no RLS, so every tenant reads every row.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "unprotected-table",
        severity: Severity::Error,
        summary: "a table created in an application schema that nothing in the run protects",
        hint: "add `SELECT tenancy.protect('<schema>.<table>', '<module>');` to the module's policies/ file; \
               a table global on purpose needs `-- tenancy-lint: allow unprotected-table -- <why>` above it",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let relation = match context.statement {
        NodeEnum::CreateStmt(create) => create.relation.as_ref(),
        NodeEnum::CreateTableAsStmt(create) => create.into.as_ref().and_then(|into| into.rel.as_ref()),
        _ => None,
    };
    // Temporary tables live and die with the migration's session.
    let Some(relation) = relation.filter(|r| r.relpersistence != "t") else { return };
    let table = QualifiedName::of(relation);
    if table.is_application() && !context.catalog.is_protected(&table) {
        out.push(Violation::at_relation(relation, format!("table {table} is created but never protected")));
    }
}
