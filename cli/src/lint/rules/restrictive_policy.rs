//! `CREATE POLICY ... AS RESTRICTIVE` on a tenant table: on one node it narrows what the tenancy
//! policies let through, but Citus (13.2) copies a table's policies to its shards without
//! `AS RESTRICTIVE`, where the same policy becomes permissive and widens instead.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "restrictive-policy",
        severity: Severity::Warning,
        summary: "a restrictive policy on a tenant table: on Citus its shards get it as permissive",
        hint: "a permission needed to write: tenancy.protect(.., write_permission => 'module:action'); otherwise the table's grants; \
               on Citus `tenancy doctor` reports it as an error",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let NodeEnum::CreatePolicyStmt(create) = context.statement else { return };
    let Some(relation) = &create.table else { return };
    let table = QualifiedName::of(relation);
    if !create.permissive && context.catalog.is_tenant_table(&table) {
        let message = format!("restrictive policy {} on tenant table {table}", create.policy_name);
        out.push(Violation::at_relation(relation, message));
    }
}
