//! The rules: one file each, one `RULE` constant each. A rule sees one statement at a time with
//! what the whole run knows (the catalog), and says what is wrong and where.
use super::catalog::{Catalog, Position};
use super::finding::RuleInfo;
use super::names::QualifiedName;
use super::Role;
use pg_query::protobuf::RangeVar;
use pg_query::NodeEnum;

mod bypassrls_granted;
mod column_or_table_dropped;
mod column_or_table_renamed;
mod column_type_changed;
mod column_without_analytics_class;
mod constraint_without_not_valid;
mod foreign_key_without_tenant_id;
mod grant_to_public;
mod index_without_concurrently;
mod key_without_tenant_id;
mod not_null_column_without_default;
mod policy_outside_policies;
mod restrictive_policy;
mod rls_disabled;
mod role_switch_on_citus;
mod security_definer_without_search_path;
mod sql_function_on_citus;
mod tenant_context_set_by_hand;
mod unprotected_table;
mod view_without_security_invoker;

pub struct Rule {
    pub info: RuleInfo,
    check: fn(&Context, &mut Vec<Violation>),
}

pub const ALL: &[Rule] = &[
    // Tenant safety: each of these can show one tenant's rows to another.
    unprotected_table::RULE,
    rls_disabled::RULE,
    policy_outside_policies::RULE,
    key_without_tenant_id::RULE,
    foreign_key_without_tenant_id::RULE,
    grant_to_public::RULE,
    view_without_security_invoker::RULE,
    security_definer_without_search_path::RULE,
    bypassrls_granted::RULE,
    tenant_context_set_by_hand::RULE,
    restrictive_policy::RULE,
    // Citus: each of these fails on a distributed cluster where one node takes it.
    role_switch_on_citus::RULE,
    sql_function_on_citus::RULE,
    // Lock safety: each of these can stall a busy table while the migration runs.
    index_without_concurrently::RULE,
    not_null_column_without_default::RULE,
    constraint_without_not_valid::RULE,
    column_type_changed::RULE,
    column_or_table_renamed::RULE,
    column_or_table_dropped::RULE,
    // Analytics: reminders, never refusals.
    column_without_analytics_class::RULE,
];

pub fn find(id: &str) -> Option<&'static RuleInfo> {
    ALL.iter().map(|r| &r.info).find(|info| info.id == id)
}

pub struct Context<'a> {
    pub statement: &'a NodeEnum,
    pub at: Position,
    pub role: Role,
    pub catalog: &'a Catalog,
    /// An earlier statement of the file switched to a role (`SET [LOCAL] ROLE r`).
    pub role_switched_earlier: bool,
    pub last_in_file: bool,
}

impl Context<'_> {
    /// A table that existed before this run, with rows a lock would hold up.
    pub fn is_existing(&self, table: &QualifiedName) -> bool {
        !self.catalog.is_new(table, self.at)
    }
}

pub struct Violation {
    /// Byte offset in the file; `None` points at the statement's first token.
    pub offset: Option<usize>,
    pub message: String,
}

impl Violation {
    pub fn at(offset: i32, message: String) -> Self {
        Violation { offset: usize::try_from(offset).ok(), message }
    }

    pub fn at_relation(relation: &RangeVar, message: String) -> Self {
        Self::at(relation.location, message)
    }

    pub fn at_statement(message: String) -> Self {
        Violation { offset: None, message }
    }
}

pub fn check(context: &Context) -> Vec<(&'static RuleInfo, Violation)> {
    let mut found = vec![];
    for rule in ALL {
        let mut violations = vec![];
        (rule.check)(context, &mut violations);
        found.extend(violations.into_iter().map(|v| (&rule.info, v)));
    }
    found
}
