//! A foreign key or check added to a table that has rows, without `NOT VALID`: every row is
//! checked while writes wait (and, for a foreign key, writes to the referenced table too).
use super::{Context, Rule, Violation};
use crate::lint::constraints;
use crate::lint::finding::{RuleInfo, Severity};
use pg_query::protobuf::ConstrType;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "constraint-without-not-valid",
        severity: Severity::Warning,
        summary: "a foreign key or check added without NOT VALID to a table that is not new",
        hint:
            "add it NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later migration (it takes a weaker lock)",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    for added in constraints::of_statement(context.statement) {
        let what = match added.constraint.contype() {
            ConstrType::ConstrForeign => "foreign key",
            ConstrType::ConstrCheck => "check constraint",
            _ => continue,
        };
        if added.added_to_table && !added.constraint.skip_validation && context.is_existing(&added.table) {
            let message = format!("adds a {what} to existing table {} and validates every row under lock", added.table);
            out.push(Violation::at(added.constraint.location, message));
        }
    }
}
