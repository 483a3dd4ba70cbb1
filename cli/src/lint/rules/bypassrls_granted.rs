//! `BYPASSRLS` on a role: it reads every tenant's rows, whatever the policies say.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::tree;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "bypassrls-granted",
        severity: Severity::Error,
        summary: "a role given BYPASSRLS",
        hint:
            "give the role tenancy_admin or an aggregate function instead; BYPASSRLS belongs to the operator, by hand",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let (role, options) = match context.statement {
        NodeEnum::CreateRoleStmt(create) => (create.role.clone(), &create.options),
        NodeEnum::AlterRoleStmt(alter) => {
            (alter.role.as_ref().map(|r| r.rolename.clone()).unwrap_or_default(), &alter.options)
        }
        _ => return,
    };
    for option in tree::def_elems(options).filter(|o| o.defname == "bypassrls" && tree::is_on(o)) {
        out.push(Violation::at(option.location, format!("gives role {role} BYPASSRLS")));
    }
}
