-- Modules: install from a manifest, enable per tenant, override per company, and the
-- checks policies and applications call. SQLSTATEs: TN010 module not enabled, TN011 unknown
-- module, TN012 unknown feature, TN020 invalid manifest, TN021 plan too low, TN022 a required
-- module is not enabled, TN023 still required by an enabled module, TN024 core module, TN025
-- not enabled for the tenant (so nothing to disable).

COMMENT ON FUNCTION tenancy.merge_config(jsonb, jsonb) IS
'Deep merge of two JSON objects, as configuration levels resolve: objects merge key by key, anything else in the overlay replaces; NULL counts as {}.';

CREATE FUNCTION tenancy._module(module text) RETURNS tenancy.modules
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    found_module tenancy.modules;
BEGIN
    SELECT * INTO found_module FROM tenancy.modules m WHERE m.key = module;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'module "%" is not installed', module
            USING ERRCODE = 'TN011', HINT = 'Installed modules are listed in tenancy.modules.';
    END IF;
    RETURN found_module;
END $$;

CREATE FUNCTION tenancy.install_module(manifest jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    problems text[];
    installed text;
    required text;
    -- computed first: Citus takes no subquery in an INSERT's VALUES (the catalog is a reference table there)
    requires text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(manifest -> 'requires', '[]')));
    permissions text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(manifest -> 'permissions', '[]')));
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    SELECT m.version INTO installed FROM tenancy.modules m WHERE m.key = manifest ->> 'key';
    problems := tenancy._manifest_problems(
        manifest, (SELECT extversion FROM pg_extension WHERE extname = 'tenancy'), installed);
    IF manifest ? 'tier' AND NOT EXISTS (SELECT FROM tenancy.plans p WHERE p.key = manifest ->> 'tier') THEN
        problems := problems || format('tier: "%s" is not a plan (plans: %s)', manifest ->> 'tier',
                                       (SELECT string_agg(key, ', ' ORDER BY rank) FROM tenancy.plans));
    END IF;
    IF jsonb_typeof(manifest -> 'requires') = 'array' THEN
        FOR required IN SELECT jsonb_array_elements_text(manifest -> 'requires') LOOP
            IF NOT EXISTS (SELECT FROM tenancy.modules m WHERE m.key = required) THEN
                problems := problems || format('requires: module "%s" is not installed', required);
            END IF;
        END LOOP;
    END IF;
    IF cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'invalid module manifest%: %', coalesce(' "' || (manifest ->> 'key') || '"', ''),
                        array_to_string(problems, '; ')
            USING ERRCODE = 'TN020', DETAIL = array_to_string(problems, E'\n');
    END IF;
    INSERT INTO tenancy.modules AS m (key, name, description, icon, is_core, sort_order, version, platform,
                                      required_tier, requires, permissions, config_defaults, features, manifest)
    VALUES (manifest ->> 'key', manifest ->> 'name', manifest ->> 'description', manifest ->> 'icon',
            coalesce((manifest ->> 'core')::bool, false), coalesce((manifest ->> 'sort_order')::int, 0),
            manifest ->> 'version', manifest ->> 'platform', manifest ->> 'tier',
            requires, permissions,
            coalesce(manifest -> 'config', '{}'), coalesce(manifest -> 'features', '{}'), manifest)
    ON CONFLICT ON CONSTRAINT modules_pkey DO UPDATE SET
        name = excluded.name, description = excluded.description, icon = excluded.icon,
        is_core = excluded.is_core, sort_order = excluded.sort_order, version = excluded.version,
        platform = excluded.platform, required_tier = excluded.required_tier, requires = excluded.requires,
        permissions = excluded.permissions, config_defaults = excluded.config_defaults,
        features = excluded.features, manifest = excluded.manifest, installed_at = excluded.installed_at;
    PERFORM tenancy._record(NULL, CASE WHEN installed IS NULL THEN 'module.installed' ELSE 'module.upgraded' END,
                            jsonb_build_object('module', manifest ->> 'key', 'version', manifest ->> 'version',
                                               'previous_version', installed));
    PERFORM tenancy._context_forget();
END $$;
COMMENT ON FUNCTION tenancy.install_module(jsonb) IS
'Installs or upgrades a module from its manifest: key, name, version (semver), platform (semver requirement on tenancy), requires, tier, permissions ("<key>:<action>"), config defaults, features. TN020 lists every problem.';

CREATE FUNCTION tenancy.enable_module(tenant uuid, module text, config jsonb DEFAULT '{}')
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    m tenancy.modules := tenancy._module(module);
    t tenancy.tenants;
    missing text[];
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    SELECT * INTO t FROM tenancy.tenants WHERE id = tenant;
    IF jsonb_typeof(config) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'module configuration must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF (SELECT rank FROM tenancy.plans WHERE key = t.plan) < (SELECT rank FROM tenancy.plans WHERE key = m.required_tier) THEN
        RAISE EXCEPTION 'module "%" needs plan "%"; tenant "%" is on plan "%"', module, m.required_tier, t.slug, t.plan
            USING ERRCODE = 'TN021', HINT = 'Upgrade the tenant''s plan first.';
    END IF;
    missing := ARRAY(SELECT r FROM unnest(m.requires) r
                     WHERE NOT r = ANY (tenancy._enabled_modules(tenant, NULL)) ORDER BY r);
    IF cardinality(missing) > 0 THEN
        RAISE EXCEPTION 'module "%" requires %, not enabled for tenant "%"', module,
                        (SELECT string_agg(format('"%s"', x), ', ') FROM unnest(missing) x), t.slug
            USING ERRCODE = 'TN022', HINT = 'Enable the required modules first.';
    END IF;
    INSERT INTO tenancy.tenant_modules AS tm (tenant_id, module, enabled, config)
    VALUES (tenant, module, true, config)
    ON CONFLICT ON CONSTRAINT tenant_modules_pkey DO UPDATE
        SET enabled = true, config = excluded.config,
            enabled_at = CASE WHEN tm.enabled THEN tm.enabled_at ELSE excluded.enabled_at END;
    PERFORM tenancy._record(tenant, 'module.enabled', jsonb_build_object('module', module, 'config', config));
    PERFORM tenancy._context_forget();
END $$;
COMMENT ON FUNCTION tenancy.enable_module(uuid, text, jsonb) IS
'Enables a module for a tenant with its tenant-level configuration. TN021 when the plan is below the module''s tier, TN022 when a required module is not enabled.';

CREATE FUNCTION tenancy.disable_module(tenant uuid, module text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    m tenancy.modules := tenancy._module(module);
    dependents text;
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    IF m.is_core THEN
        RAISE EXCEPTION 'module "%" is a core module and is always enabled', module USING ERRCODE = 'TN024';
    END IF;
    SELECT string_agg(format('"%s"', d.key), ', ' ORDER BY d.key) INTO dependents
    FROM tenancy.modules d
    WHERE module = ANY (d.requires) AND d.key = ANY (tenancy._enabled_modules(tenant, NULL));
    IF dependents IS NOT NULL THEN
        RAISE EXCEPTION 'module "%" is required by %, enabled for this tenant', module, dependents
            USING ERRCODE = 'TN023', HINT = 'Disable those modules first.';
    END IF;
    UPDATE tenancy.tenant_modules tm SET enabled = false
    WHERE tm.tenant_id = tenant AND tm.module = disable_module.module AND tm.enabled;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'module "%" is not enabled for tenant "%"', module, (SELECT t.slug FROM tenancy.tenants t WHERE t.id = tenant)
            USING ERRCODE = 'TN025';
    END IF;
    PERFORM tenancy._record(tenant, 'module.disabled', jsonb_build_object('module', module));
    PERFORM tenancy._context_forget();
END $$;
COMMENT ON FUNCTION tenancy.disable_module(uuid, text) IS
'Disables a module for a tenant (its configuration is kept). TN023 while an enabled module requires it, TN024 for core modules, TN025 when it is not enabled for the tenant.';

CREATE FUNCTION tenancy.set_company_module(
    company uuid, module text, enabled bool DEFAULT true, config jsonb DEFAULT '{}',
    enabled_features text[] DEFAULT NULL, disabled_features text[] DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    m tenancy.modules := tenancy._module(module);
    tenant uuid;
    unknown text;
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    SELECT c.tenant_id INTO tenant FROM tenancy.companies c WHERE c.id = company;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'company % does not exist', company USING ERRCODE = 'TN003';
    END IF;
    IF jsonb_typeof(config) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'module configuration must be a JSON object' USING ERRCODE = '22023';
    END IF;
    SELECT string_agg(format('"%s"', f), ', ') INTO unknown
    FROM unnest(coalesce(enabled_features, '{}') || coalesce(disabled_features, '{}')) f
    WHERE NOT m.features ? f;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'module "%" has no feature %', module, unknown
            USING ERRCODE = 'TN012', DETAIL = format('declared features: %s', m.features);
    END IF;
    IF enabled_features && disabled_features THEN
        RAISE EXCEPTION 'a feature cannot be both enabled and disabled' USING ERRCODE = '22023';
    END IF;
    INSERT INTO tenancy.company_modules AS cm (company_id, module, enabled, config, enabled_features, disabled_features)
    VALUES (company, module, enabled, config, enabled_features, disabled_features)
    ON CONFLICT ON CONSTRAINT company_modules_pkey DO UPDATE
        SET enabled = excluded.enabled, config = excluded.config,
            enabled_features = excluded.enabled_features, disabled_features = excluded.disabled_features;
    PERFORM tenancy._record(tenant, 'company_module.set',
        jsonb_build_object('company', company, 'module', module, 'enabled', enabled, 'config', config,
                           'enabled_features', enabled_features, 'disabled_features', disabled_features));
    PERFORM tenancy._context_forget();
END $$;
COMMENT ON FUNCTION tenancy.set_company_module(uuid, text, bool, jsonb, text[], text[]) IS
'Company-level override of a tenant''s module: switch it off for one company, override configuration, switch features on or off.';

CREATE FUNCTION tenancy._module_not_enabled(module text, tenant uuid, company uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    t tenancy.tenants;
    m tenancy.modules := tenancy._module(module);
    upgrade bool;
BEGIN
    SELECT * INTO t FROM tenancy.tenants WHERE id = tenant;
    -- DETAIL "module=<key> upgrade=<bool>": upgrade is true only when the plan is below the
    -- module's tier, so a frontend offers a plan upgrade only where one would help.
    IF company IS NOT NULL AND module = ANY (tenancy._enabled_modules(tenant, NULL)) THEN
        RAISE EXCEPTION 'module "%" is not enabled for company "%" of tenant "%"', module,
                        (SELECT name FROM tenancy.companies WHERE id = company), t.slug
            USING ERRCODE = 'TN010', DETAIL = format('module=%s upgrade=false', module),
                  HINT = 'The tenant''s administrator can enable it for this company.';
    END IF;
    upgrade := (SELECT rank FROM tenancy.plans WHERE key = t.plan) < (SELECT rank FROM tenancy.plans WHERE key = m.required_tier);
    RAISE EXCEPTION 'module "%" is not enabled for tenant "%"', module, t.slug
        USING ERRCODE = 'TN010', DETAIL = format('module=%s upgrade=%s', module, upgrade::text),
              HINT = CASE WHEN upgrade THEN format('Upgrade to plan "%s" or above to use %s.', m.required_tier, m.name)
                          ELSE format('Ask the platform administrator to enable %s.', m.name) END;
END $$;

CREATE FUNCTION tenancy._module_tenant_slow(module text) RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    ctx record := tenancy._context();
BEGIN
    IF ctx.tenant IS NULL OR module = ANY (ctx.modules) THEN
        RETURN ctx.tenant;
    END IF;
    PERFORM tenancy._module_not_enabled(module, ctx.tenant, ctx.company);
    RETURN NULL;
END $$;

-- Inlined into the policies of a module's tables: one call into the extension per statement
-- while the module is enabled; the slow path resolves a binding, loads modules or refuses.
CREATE FUNCTION tenancy.module_tenant_id(module text) RETURNS uuid
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT coalesce(tenancy._fast_module_tenant(module), tenancy._module_tenant_slow(module));
$$;
COMMENT ON FUNCTION tenancy.module_tenant_id(text) IS
'What the policies of a module''s tables compare tenant_id with: the current tenant once the module is checked to be enabled for it and its company (TN010 naming the module otherwise); NULL without a tenant context.';

CREATE FUNCTION tenancy.require_module(module text) RETURNS bool
LANGUAGE sql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.module_tenant_id(module) IS NOT NULL;
$$;
COMMENT ON FUNCTION tenancy.require_module(text) IS
'For applications and custom policies: true when the current tenant (and company) has the module, false without a tenant context, error TN010 naming the module otherwise.';

CREATE FUNCTION tenancy.has_module(module text) RETURNS bool
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    ctx record := tenancy._context();
BEGIN
    IF ctx.tenant IS NOT NULL AND module = ANY (ctx.modules) THEN
        RETURN true;
    END IF;
    PERFORM tenancy._module(module);  -- TN011 for a module that does not exist
    RETURN false;
END $$;
COMMENT ON FUNCTION tenancy.has_module(text) IS
'Whether the current tenant (and company) has the module enabled; core modules always. TN011 for an unknown module.';

CREATE FUNCTION tenancy.has_feature(module text, feature text) RETURNS bool
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    m tenancy.modules := tenancy._module(module);
    ctx record := tenancy._context();
    cm tenancy.company_modules;
BEGIN
    IF NOT m.features ? feature THEN
        RAISE EXCEPTION 'module "%" has no feature "%"', module, feature
            USING ERRCODE = 'TN012', DETAIL = format('declared features: %s', m.features);
    END IF;
    IF ctx.tenant IS NULL OR NOT module = ANY (ctx.modules) THEN
        RETURN false;
    END IF;
    SELECT * INTO cm FROM tenancy.company_modules c WHERE c.company_id = ctx.company AND c.module = has_feature.module;
    RETURN CASE WHEN feature = ANY (cm.disabled_features) THEN false
                WHEN feature = ANY (cm.enabled_features) THEN true
                ELSE (m.features ->> feature)::bool END;
END $$;
COMMENT ON FUNCTION tenancy.has_feature(text, text) IS
'Whether a feature of a module is on for the current tenant and company: the manifest''s default, overridden per company. False when the module is not enabled; TN012 for an undeclared feature.';

CREATE FUNCTION tenancy.module_config(module text) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    ctx record := tenancy._context();
BEGIN
    IF ctx.tenant IS NULL THEN
        RAISE EXCEPTION 'no tenant context' USING ERRCODE = 'TN004',
            HINT = 'The API enters a tenant per request; analysts need a role binding.';
    END IF;
    PERFORM tenancy.require_module(module);
    RETURN (
        SELECT tenancy.merge_config(tenancy.merge_config(m.config_defaults, tm.config), cm.config)
        FROM tenancy.modules m
        LEFT JOIN tenancy.tenant_modules tm ON tm.module = m.key AND tm.tenant_id = ctx.tenant
        LEFT JOIN tenancy.company_modules cm ON cm.module = m.key AND cm.company_id = ctx.company
        WHERE m.key = module_config.module);
END $$;
COMMENT ON FUNCTION tenancy.module_config(text) IS
'The module''s configuration for the current tenant and company: module defaults, deep-merged with the tenant''s, then the company''s. TN010 when the module is not enabled, TN004 without a tenant context.';

CREATE FUNCTION tenancy.module_grid()
RETURNS TABLE (key text, name text, description text, icon text, sort_order int, is_core bool,
               enabled bool, required_tier text, upgrade bool, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    ctx record := tenancy._context();
    plan_rank int;
BEGIN
    IF ctx.tenant IS NULL THEN
        RAISE EXCEPTION 'no tenant context' USING ERRCODE = 'TN004';
    END IF;
    SELECT p.rank INTO plan_rank FROM tenancy.tenants t JOIN tenancy.plans p ON p.key = t.plan WHERE t.id = ctx.tenant;
    RETURN QUERY
    SELECT m.key, m.name, m.description, m.icon, m.sort_order, m.is_core, s.enabled, m.required_tier,
           NOT s.enabled AND coalesce(tier.rank > plan_rank, false),
           CASE WHEN s.enabled THEN NULL
                WHEN tier.rank > plan_rank THEN 'plan'
                WHEN s.tenant_enabled THEN 'company'
                ELSE 'not_enabled' END
    FROM tenancy.modules m
    LEFT JOIN tenancy.plans tier ON tier.key = m.required_tier
    CROSS JOIN LATERAL (SELECT m.key = ANY (ctx.modules) AS enabled,
                               m.key = ANY (tenancy._enabled_modules(ctx.tenant, NULL)) AS tenant_enabled) s
    ORDER BY m.sort_order, m.key;
END $$;
COMMENT ON FUNCTION tenancy.module_grid() IS
'Every installed module as the current tenant (and company) sees it, for a module grid: enabled or locked, the tier it needs, upgrade = a higher plan would unlock it, and why it is locked (plan, company, not_enabled). TN004 without a tenant context.';
