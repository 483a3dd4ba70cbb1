//! A migration that runs as a role (`SET LOCAL ROLE owner`) and then goes on as another, on a
//! Citus cluster `tenancy distribute` has spread. Citus carries each role's DDL to the workers
//! over that role's own connections, and one connection does not see what another has not
//! committed: `CREATE VIEW v` as the owner, then `RESET ROLE; REVOKE ALL ON v FROM PUBLIC` fails
//! on every worker with "relation v does not exist". One node takes it; the cluster refuses the
//! whole migration, so it is refused here first, with a way out.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::tree;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "role-switch-on-citus",
        severity: Severity::Error,
        summary: "a migration going on as another role after running as one, on a distributed Citus cluster",
        hint: "on Citus each role's statements reach the workers over its own connections, which do not see each \
               other's uncommitted objects: run the rest as the role that made them (an owner may grant and revoke \
               on what it owns), or move it to a migration of its own",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    // After a switch, any role change leaves the role the statements before it ran as.
    let leaves_the_role = tree::role_change(context.statement).is_some();
    if context.catalog.distributed_on_citus && context.role_switched_earlier && leaves_the_role && !context.last_in_file
    {
        out.push(Violation::at_statement(
            "goes on as another role after statements run as the one switched to: on this Citus cluster its next \
             statements cannot see what those made"
                .to_string(),
        ));
    }
}
