//! `GRANT ... TO PUBLIC` on a tenant table: every role, present and future, gets it, including
//! roles no one meant to give tenant data to.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use pg_query::protobuf::{GrantTargetType, ObjectType, RoleSpecType};
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "grant-to-public",
        severity: Severity::Error,
        summary: "a tenant table (or a schema's tables, holding one) granted to PUBLIC",
        hint: "grant tenant tables to tenant_member (or another named role), never to PUBLIC",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let NodeEnum::GrantStmt(grant) = context.statement else { return };
    let to_public = grant
        .grantees
        .iter()
        .any(|g| matches!(&g.node, Some(NodeEnum::RoleSpec(r)) if r.roletype() == RoleSpecType::RolespecPublic));
    if !grant.is_grant || !to_public || grant.objtype() != ObjectType::ObjectTable {
        return;
    }
    match grant.targtype() {
        GrantTargetType::AclTargetObject => {
            for object in &grant.objects {
                let Some(NodeEnum::RangeVar(relation)) = &object.node else { continue };
                let table = QualifiedName::of(relation);
                if context.catalog.is_tenant_table(&table) {
                    out.push(Violation::at_relation(relation, format!("grants tenant table {table} to PUBLIC")));
                }
            }
        }
        GrantTargetType::AclTargetAllInSchema => {
            for schema in tree::strings(&grant.objects) {
                let tables = context.catalog.tenant_tables_in(&schema);
                if !tables.is_empty() {
                    let names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
                    let message =
                        format!("grants every table of schema {schema} to PUBLIC, tenant tables {}", names.join(", "));
                    out.push(Violation::at_statement(message));
                }
            }
        }
        _ => {}
    }
}
