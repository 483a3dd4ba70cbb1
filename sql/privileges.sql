-- Who may call what. Everything starts revoked; the tenant-facing checks are public, the
-- lifecycle is for tenancy_admin, the internals for nobody but the extension's owner.
REVOKE ALL ON ALL TABLES IN SCHEMA tenancy FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA tenancy FROM PUBLIC;
GRANT USAGE ON SCHEMA tenancy TO PUBLIC;
GRANT SELECT ON tenancy.modules, tenancy.plans, tenancy.protected_tables TO PUBLIC;

GRANT EXECUTE ON FUNCTION
    tenancy.current_tenant_id(), tenancy.current_company_id(), tenancy.bound_tenants(), tenancy.public_config(text),
    tenancy.enter_tenant(uuid, uuid), tenancy._enter(uuid, uuid), tenancy._enter_refused(uuid, uuid),
    tenancy.check_subdomain(uuid, text),
    tenancy._fast_tenant(), tenancy._current_tenant_slow(),
    tenancy._fast_module_tenant(text), tenancy._module_tenant_slow(text),
    tenancy.use_tenant(uuid),
    tenancy.module_tenant_id(text), tenancy.require_module(text), tenancy.has_module(text), tenancy.has_feature(text, text),
    tenancy.module_config(text), tenancy.merge_config(jsonb, jsonb), tenancy.module_grid(),
    tenancy.protect(regclass, text, jsonb, text), tenancy._declare_analytics_columns(regclass, jsonb),
    tenancy.unprotect(regclass), tenancy._require_protect_rights(regclass),
    tenancy._register_protected(regclass, text, text, text), tenancy._unregister_protected(regclass),
    tenancy._policy_check(text), tenancy._write_check(text, text), tenancy._citus(), tenancy._catalog_distributed(), tenancy._module(text), tenancy.unprotected_tables(),
    tenancy.set_user(text, text[]), tenancy.current_tenant_roles(), tenancy.current_permissions(),
    tenancy.has_permission(text), tenancy.require_permission(text), tenancy.record_writes(regclass, bool),
    tenancy._require_known_permissions(text[]), tenancy._unknown_permissions(text[])
TO PUBLIC;

GRANT EXECUTE ON FUNCTION
    tenancy.create_tenant(text, text, text, jsonb, text[]), tenancy.suspend_tenant(uuid),
    tenancy.activate_tenant(uuid), tenancy.delete_tenant(uuid, interval), tenancy.restore_tenant(uuid),
    tenancy.erase_tenant(uuid), tenancy.erase_due_tenants(), tenancy.create_company(uuid, text),
    tenancy.update_tenant(uuid, text, jsonb, text, text), tenancy.tenant_row_counts(uuid),
    tenancy.bind_role(regrole, uuid), tenancy.unbind_role(regrole, uuid),
    tenancy.install_module(jsonb), tenancy.enable_module(uuid, text, jsonb),
    tenancy.disable_module(uuid, text),
    tenancy.set_company_module(uuid, text, bool, jsonb, text[], text[]),
    tenancy.define_tenant_role(uuid, text, text[], text), tenancy.drop_tenant_role(uuid, text),
    tenancy.grant_tenant_role(uuid, text, text), tenancy.revoke_tenant_role(uuid, text, text)
TO tenancy_admin;
