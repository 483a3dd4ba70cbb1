//! `DROP POLICY` / `ALTER POLICY` on a tenant table in a migration: the policies are
//! `tenancy.protect`'s and the policies/ files', re-applied on every run; a migration that
//! changes them opens a hole the next run may or may not close.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use crate::lint::Role;
use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "policy-outside-policies",
        severity: Severity::Error,
        summary: "a policy of a tenant table dropped or altered outside policies/",
        hint: "change a tenant table's policies in its module's policies/ file (re-run `tenancy.protect` there)",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    if context.role == Role::Policy {
        return;
    }
    match context.statement {
        NodeEnum::AlterPolicyStmt(alter) => {
            let Some(relation) = &alter.table else { return };
            let table = QualifiedName::of(relation);
            if context.catalog.is_tenant_table(&table) {
                let message = format!("alters policy {} on tenant table {table}", alter.policy_name);
                out.push(Violation::at_relation(relation, message));
            }
        }
        NodeEnum::DropStmt(drop) if drop.remove_type() == ObjectType::ObjectPolicy => {
            for object in &drop.objects {
                let Some(NodeEnum::List(names)) = &object.node else { continue };
                // [schema,] table, policy
                let mut names = tree::strings(&names.items);
                let Some(policy) = names.pop() else { continue };
                let Some(table) = QualifiedName::from_parts(&names) else { continue };
                if context.catalog.is_tenant_table(&table) {
                    out.push(Violation::at_statement(format!("drops policy {policy} on tenant table {table}")));
                }
            }
        }
        _ => {}
    }
}
