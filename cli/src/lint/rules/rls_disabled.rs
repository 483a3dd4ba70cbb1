//! `DISABLE` / `NO FORCE ROW LEVEL SECURITY` on a tenant table: the first lets everyone past the
//! policies, the second lets the owner (whoever runs migrations and definer functions) past them.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use crate::lint::Role;
use pg_query::protobuf::AlterTableType;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "rls-disabled",
        severity: Severity::Error,
        summary: "row-level security disabled or no longer forced on a tenant table outside policies/",
        hint:
            "leave row-level security to tenancy.protect; change a tenant table's security only in its policies/ file",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    if context.role == Role::Policy {
        return;
    }
    let Some((relation, commands)) = tree::alter_table(context.statement) else { return };
    let table = QualifiedName::of(relation);
    if !context.catalog.is_tenant_table(&table) {
        return;
    }
    for (kind, _) in commands {
        let what = match kind {
            AlterTableType::AtDisableRowSecurity => "disables row-level security",
            AlterTableType::AtNoForceRowSecurity => "stops forcing row-level security",
            _ => continue,
        };
        out.push(Violation::at_relation(relation, format!("{what} on tenant table {table}")));
    }
}
