//! The `tenancy` extension: the tenant context lives here, in backend memory, so no `SET`
//! can forge it; everything else (catalog, policies, lifecycle) is SQL in `../sql/`.
use pgrx::prelude::*;

mod config_merge;
mod entitlements;
mod manifest;
mod saved_query;
mod sealed_context;
mod tenant_context;

pgrx::pg_module_magic!();

extension_sql_file!("../../sql/catalog.sql", bootstrap);
extension_sql_file!(
    "../../sql/context.sql",
    requires = [
        tenant_context::context_set,
        tenant_context::context_get,
        tenant_context::context_forget,
        tenant_context::context_set_modules,
        tenant_context::outer_role,
        tenant_context::session_choice,
        tenant_context::choose_tenant,
        tenant_context::enter,
        tenant_context::fast_tenant,
        tenant_context::fast_module_tenant,
        entitlements::enabled_modules_sql,
        entitlements::catalog_changed
    ]
);
extension_sql_file!(
    "../../sql/modules.sql",
    requires = ["context", config_merge::merge_config, manifest::manifest_problems]
);
extension_sql_file!("../../sql/tenants.sql", requires = ["modules"]);
extension_sql_file!("../../sql/protect.sql", requires = ["modules"]);
extension_sql_file!("../../sql/analytics.sql", requires = ["tenants", "protect"]);
extension_sql_file!("../../sql/analytics_privacy.sql", requires = ["analytics"]);
extension_sql_file!(
    "../../sql/permissions.sql",
    requires = ["tenants", tenant_context::context_set_user, tenant_context::context_user]
);
extension_sql_file!("../../sql/event_log.sql", requires = ["protect", "permissions"]);
extension_sql_file!(
    "../../sql/citus.sql",
    requires = ["protect", "tenants", "analytics_privacy", "permissions", "event_log"]
);
extension_sql_file!("../../sql/privileges.sql", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    tenant_context::init();
    sealed_context::init();
    entitlements::init();
}

#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
