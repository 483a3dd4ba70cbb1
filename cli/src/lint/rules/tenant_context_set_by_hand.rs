//! A migration that enters a tenant (or sets `tenancy.*` settings): migrations run for every
//! tenant at once, and whatever they do inside one tenant's context is a silent guess.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::tree;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "tenant-context-set-by-hand",
        severity: Severity::Error,
        summary: "a migration entering a tenant or setting tenancy.* settings by hand",
        hint: "migrations act on all tenants: change schema here, and per-tenant data through tenancy's functions \
               (create_tenant, enable_module) or the API",
    },
    check,
};

const ENTERING: &[&str] = &["enter_tenant", "_enter", "use_tenant"];

fn is_tenancy_setting(name: &str) -> bool {
    name.to_lowercase().starts_with("tenancy.")
}

fn check(context: &Context, out: &mut Vec<Violation>) {
    if let NodeEnum::VariableSetStmt(set) = context.statement {
        if is_tenancy_setting(&set.name) {
            out.push(Violation::at_statement(format!("sets {} by hand", set.name)));
        }
    }
    for call in tree::calls(context.statement) {
        if let Some(name) = tree::function_name(call, "tenancy").filter(|n| ENTERING.contains(&n.as_str())) {
            out.push(Violation::at(call.location, format!("calls tenancy.{name}, entering a tenant by hand")));
        }
        let setting = call.args.first().and_then(tree::string_literal).filter(|s| is_tenancy_setting(s));
        if let (Some("set_config"), Some(setting)) = (tree::function_name(call, "pg_catalog").as_deref(), setting) {
            out.push(Violation::at(call.location, format!("sets {setting} by hand with set_config")));
        }
    }
}
