-- The console (issue 15) reads what V8 and V10 do not serve:
-- * the platform administrator's tenant page: the tenant's module grid as api.modules shows it
--   to the tenant (enabled, locked with the reason and whether a higher plan unlocks it), with
--   the configuration at its three levels and their merge, for the tenant or one of its
--   companies; and the tenant's event log;
-- * a tenant's administrators (users:write: who manages people): the tenant's members and the
--   tenant roles it has, with their permissions and members, and a request to the platform for a module
--   their plan locks, recorded in the tenant's event log where the platform reads it.

-- As tenancy.module_grid() computes it for the entered tenant and company, here for the tenant
-- and company named. Definer: _enabled_modules is the extension's internal. A company of
-- another tenant yields no rows.
CREATE FUNCTION platform.module_grid(tenant_id uuid, company_id uuid DEFAULT NULL)
RETURNS TABLE (key text, name text, description text, icon text, sort_order int, is_core bool,
               enabled bool, required_tier text, upgrade bool, reason text,
               defaults jsonb, tenant_config jsonb, company_config jsonb, merged_config jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT m.key, m.name, m.description, m.icon, m.sort_order, m.is_core, s.enabled, m.required_tier,
           NOT s.enabled AND coalesce(tier.rank > plan.rank, false),
           CASE WHEN s.enabled THEN NULL
                WHEN tier.rank > plan.rank THEN 'plan'
                WHEN s.tenant_enabled THEN 'company'
                ELSE 'not_enabled' END,
           m.config_defaults, tm.config, cm.config,
           tenancy.merge_config(tenancy.merge_config(m.config_defaults, tm.config), cm.config)
    FROM tenancy.tenants t
    JOIN tenancy.plans plan ON plan.key = t.plan
    CROSS JOIN tenancy.modules m
    LEFT JOIN tenancy.plans tier ON tier.key = m.required_tier
    LEFT JOIN tenancy.tenant_modules tm ON tm.tenant_id = t.id AND tm.module = m.key
    LEFT JOIN tenancy.company_modules cm ON cm.company_id = module_grid.company_id AND cm.module = m.key
    CROSS JOIN LATERAL (SELECT m.key = ANY (tenancy._enabled_modules(t.id, module_grid.company_id)) AS enabled,
                               m.key = ANY (tenancy._enabled_modules(t.id, NULL)) AS tenant_enabled) s
    WHERE t.id = module_grid.tenant_id
      AND (module_grid.company_id IS NULL
           OR EXISTS (SELECT FROM tenancy.companies c WHERE c.id = module_grid.company_id AND c.tenant_id = t.id))
    ORDER BY m.sort_order, m.key;
$$;
COMMENT ON FUNCTION platform.module_grid(uuid, uuid) IS
'A tenant''s (or one of its companies'') module grid as api.modules shows it to the tenant, with the configuration of each level (defaults, tenant, company) and the merged result.';
REVOKE EXECUTE ON FUNCTION platform.module_grid(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION platform.module_grid(uuid, uuid) TO platform_admin;

-- Every tenant's events, for the platform (the log is granted to nobody: the view reads it
-- with its owner's rights).
CREATE VIEW platform.events AS
SELECT e.id, e.tenant_id, e.at, e.actor, e.action, e.detail FROM tenancy.events e;
REVOKE ALL ON platform.events FROM PUBLIC;
GRANT SELECT ON platform.events TO platform_admin;

-- The current tenant's roles: its own, and the defaults it has not replaced; members are user
-- ids (the token's subject) or analysts' role names. Only for holders of users:write (TN071).
CREATE VIEW api.tenant_roles AS
SELECT r.name, r.permissions, r.description, r.tenant_id IS NULL AS is_default,
       ARRAY(SELECT rm.member FROM tenancy.tenant_role_members rm
             WHERE rm.tenant_id = tenancy.current_tenant_id() AND rm.role_name = r.name ORDER BY 1) AS members
FROM tenancy.tenant_roles r
WHERE (r.tenant_id = tenancy.current_tenant_id()
       OR (r.tenant_id IS NULL AND NOT EXISTS (SELECT FROM tenancy.tenant_roles own
                                               WHERE own.tenant_id = tenancy.current_tenant_id() AND own.name = r.name)))
  AND (SELECT tenancy.require_permission('users:write'));
REVOKE ALL ON api.tenant_roles FROM PUBLIC;
GRANT SELECT ON api.tenant_roles TO tenant_member;

-- The installed modules, for the platform's forms (a new tenant's modules) and adoption chart.
CREATE VIEW platform.modules AS
SELECT m.key, m.name, m.description, m.icon, m.sort_order, m.is_core, m.required_tier, m.config_defaults,
       (SELECT count(*) FROM tenancy.tenant_modules tm WHERE tm.module = m.key AND tm.enabled) AS tenants_enabled
FROM tenancy.modules m;
REVOKE ALL ON platform.modules FROM PUBLIC;
GRANT SELECT ON platform.modules TO platform_admin;

-- The current tenant's members as sign-in knows them (schema auth, read with the view owner's
-- rights: no other column of auth, and no other tenant's members). users:write (TN071).
CREATE VIEW api.members AS
SELECT i.id, i.email, i.status, m.created_at AS joined_at, i.last_sign_in_at,
       ARRAY(SELECT r.role_name FROM tenancy.tenant_role_members r
             WHERE r.tenant_id = m.tenant AND r.member = i.id::text ORDER BY 1) AS tenant_roles
FROM auth.memberships m
JOIN auth.identities i ON i.id = m.identity_id
WHERE m.tenant = tenancy.current_tenant_id() AND (SELECT tenancy.require_permission('users:write'));
REVOKE ALL ON api.members FROM PUBLIC;
GRANT SELECT ON api.members TO tenant_member;

-- A tenant administrator asks the platform for a module the tenant's plan locks: event
-- module.upgrade_requested (module, the plan it needs, who asked) in the tenant's log.
-- users:write (TN071); 22023 for a module the plan does not lock (nothing to upgrade for).
CREATE FUNCTION api.request_upgrade(module text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    locked record;
    request jsonb;
BEGIN
    PERFORM tenancy.require_permission('users:write');
    SELECT g.key, g.required_tier INTO locked FROM tenancy.module_grid() g WHERE g.key = module AND g.upgrade;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'module "%" is not locked by the plan', module USING ERRCODE = '22023',
            HINT = 'Only a module a higher plan unlocks can be requested.';
    END IF;
    request := jsonb_build_object('module', locked.key, 'plan', locked.required_tier,
                                  'user', (SELECT c.user_id FROM tenancy._context_user() c));
    PERFORM tenancy._record(tenancy.current_tenant_id(), 'module.upgrade_requested', request);
    RETURN request;
END $$;
COMMENT ON FUNCTION api.request_upgrade(text) IS
'A tenant administrator''s request for a module the plan locks, recorded as module.upgrade_requested in the tenant''s event log.';
REVOKE EXECUTE ON FUNCTION api.request_upgrade(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.request_upgrade(text) TO tenant_member;

-- The current tenant's configuration of each enabled module, per company: the three levels
-- and the merge (what tenancy.module_config() answers in that company). users:write (TN071).
CREATE VIEW api.company_configuration AS
SELECT c.id AS company_id, c.name AS company, m.key AS module, m.name AS module_name,
       m.config_defaults AS defaults, tm.config AS tenant_config, cm.config AS company_config,
       tenancy.merge_config(tenancy.merge_config(m.config_defaults, tm.config), cm.config) AS merged_config
FROM tenancy.companies c
JOIN tenancy.tenant_modules tm ON tm.tenant_id = c.tenant_id AND tm.enabled
JOIN tenancy.modules m ON m.key = tm.module
LEFT JOIN tenancy.company_modules cm ON cm.company_id = c.id AND cm.module = m.key
WHERE c.tenant_id = tenancy.current_tenant_id() AND (SELECT tenancy.require_permission('users:write'));
REVOKE ALL ON api.company_configuration FROM PUBLIC;
GRANT SELECT ON api.company_configuration TO tenant_member;

-- A tenant administrator sets one of its companies' configuration of a module the tenant has
-- enabled (the company's override keeps its enabled flag and features). users:write (TN071);
-- 42704 for a company that is not the tenant's (whether or not it exists elsewhere) or a
-- module the tenant has not enabled.
CREATE FUNCTION api.set_company_config(company_id uuid, module text, config jsonb)
RETURNS SETOF api.company_configuration LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    kept record;
BEGIN
    PERFORM tenancy.require_permission('users:write');
    IF NOT EXISTS (SELECT FROM api.company_configuration cc WHERE cc.company_id = company_id AND cc.module = module) THEN
        RAISE EXCEPTION 'no company % with module "%" in this tenant', company_id, module USING ERRCODE = '42704';
    END IF;
    SELECT cm.enabled, cm.enabled_features, cm.disabled_features INTO kept
    FROM tenancy.company_modules cm WHERE cm.company_id = company_id AND cm.module = module;
    PERFORM tenancy.set_company_module(company_id, module, coalesce(kept.enabled, true), config,
                                       kept.enabled_features, kept.disabled_features);
    RETURN QUERY SELECT * FROM api.company_configuration cc WHERE cc.company_id = company_id AND cc.module = module;
END $$;
COMMENT ON FUNCTION api.set_company_config(uuid, text, jsonb) IS
'A tenant administrator sets a company''s configuration of a module; answers the company''s levels and merge.';
REVOKE EXECUTE ON FUNCTION api.set_company_config(uuid, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.set_company_config(uuid, text, jsonb) TO tenant_member;
