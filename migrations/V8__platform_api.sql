-- The platform administrator's API, served as REST like any schema: tenants as a view to
-- list, search and page through, and functions for everything that changes them. It wraps
-- the extension's tenancy_admin functions, so platform_admin is a member of tenancy_admin
-- and nobody else is granted anything here. Tenant users (tenant_member) and anonymous
-- callers get 42501 (403/401 over REST).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'platform_admin') THEN
        CREATE ROLE platform_admin NOLOGIN;
    END IF;
END $$;
GRANT tenancy_admin TO platform_admin;

CREATE SCHEMA platform;
GRANT USAGE ON SCHEMA platform TO platform_admin;
COMMENT ON SCHEMA platform IS 'Tenant administration for the platform operator (role platform_admin).';

-- Reads the catalog with its owner's rights (the catalog is granted to nobody): only
-- platform_admin may select from it.
CREATE VIEW platform.tenants AS
SELECT t.id, t.slug, t.name, t.status, t.plan, t.theme, t.contact_email, t.created_at, t.updated_at,
       ARRAY(SELECT m.key FROM tenancy.modules m
             WHERE m.is_core OR EXISTS (SELECT FROM tenancy.tenant_modules tm
                                        WHERE tm.tenant_id = t.id AND tm.module = m.key AND tm.enabled)
             ORDER BY m.key) AS modules,
       (SELECT count(*) FROM tenancy.companies c WHERE c.tenant_id = t.id) AS companies
FROM tenancy.tenants t;

CREATE VIEW platform.companies AS
SELECT c.id, c.tenant_id, c.name, c.created_at,
       coalesce((SELECT jsonb_object_agg(cm.module, jsonb_build_object('enabled', cm.enabled, 'config', cm.config))
                 FROM tenancy.company_modules cm WHERE cm.company_id = c.id), '{}') AS module_overrides
FROM tenancy.companies c;

CREATE VIEW platform.tenant_modules AS
SELECT tm.tenant_id, tm.module, tm.enabled, tm.enabled_at, tm.config FROM tenancy.tenant_modules tm;

-- Per tenant: what it is, what it has, when it last did something, how many rows it owns.
CREATE VIEW platform.tenant_health AS
SELECT t.id, t.slug, t.status, t.plan, t.modules, t.companies,
       (SELECT max(e.at) FROM tenancy.events e WHERE e.tenant_id = t.id) AS last_activity,
       (SELECT count(*) FROM tenancy.events e WHERE e.tenant_id = t.id AND e.at > now() - interval '30 days')
           AS events_last_30_days,
       tenancy.tenant_row_counts(t.id) AS rows
FROM platform.tenants t;

CREATE VIEW platform.stats AS
SELECT (SELECT count(*) FROM tenancy.tenants) AS tenants,
       (SELECT count(*) FROM tenancy.tenants WHERE status = 'active') AS active,
       (SELECT count(*) FROM tenancy.tenants WHERE status = 'suspended') AS suspended,
       (SELECT jsonb_object_agg(p.key, (SELECT count(*) FROM tenancy.tenants t WHERE t.plan = p.key))
        FROM tenancy.plans p) AS by_plan,
       (SELECT count(*) FROM tenancy.companies) AS companies,
       (SELECT count(*) FROM tenancy.tenant_modules WHERE enabled) AS enabled_modules;

CREATE FUNCTION platform.create_tenant(slug text, name text, plan text DEFAULT 'free', theme jsonb DEFAULT '{}',
                                       modules text[] DEFAULT '{}', contact_email text DEFAULT NULL)
RETURNS platform.tenants LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    id uuid := tenancy.create_tenant(slug, name, plan, theme, modules);
BEGIN
    IF contact_email IS NOT NULL THEN
        PERFORM tenancy.update_tenant(id, contact_email => contact_email);
    END IF;
    RETURN (SELECT t FROM platform.tenants t WHERE t.id = id);
END $$;

-- All or nothing: every item is tried, and when any fails none is kept and the error's
-- DETAIL is the per-item report (index, slug, SQLSTATE, message).
CREATE FUNCTION platform.bulk_create_tenants(tenants jsonb)
RETURNS SETOF platform.tenants LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    item jsonb;
    i int := 0;
    ids uuid[] := '{}';
    report jsonb := '[]';
    code text;
    msg text;
BEGIN
    IF jsonb_typeof(tenants) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'tenants must be a JSON array of tenant objects' USING ERRCODE = '22023';
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(tenants) LOOP
        BEGIN
            ids := ids || (platform.create_tenant(
                item ->> 'slug', item ->> 'name', coalesce(item ->> 'plan', 'free'), coalesce(item -> 'theme', '{}'),
                ARRAY(SELECT jsonb_array_elements_text(coalesce(item -> 'modules', '[]'))),
                item ->> 'contact_email')).id;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            report := report || jsonb_build_object('index', i, 'slug', item ->> 'slug', 'code', code, 'message', msg);
        END;
        i := i + 1;
    END LOOP;
    IF jsonb_array_length(report) > 0 THEN
        RAISE EXCEPTION '% of % tenants could not be created; none was', jsonb_array_length(report), i
            USING ERRCODE = 'TN042', DETAIL = report::text;
    END IF;
    RETURN QUERY SELECT t.* FROM platform.tenants t JOIN unnest(ids) WITH ORDINALITY AS n(id, ord) ON n.id = t.id
                 ORDER BY n.ord;
END $$;

CREATE FUNCTION platform.update_tenant(id uuid, name text DEFAULT NULL, theme jsonb DEFAULT NULL,
                                       plan text DEFAULT NULL, contact_email text DEFAULT NULL)
RETURNS platform.tenants LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.update_tenant(id, name, theme, plan, contact_email);
    SELECT t FROM platform.tenants t WHERE t.id = update_tenant.id;
$$;

CREATE FUNCTION platform.suspend_tenant(id uuid) RETURNS platform.tenants
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.suspend_tenant(id);
    SELECT t FROM platform.tenants t WHERE t.id = suspend_tenant.id;
$$;

CREATE FUNCTION platform.activate_tenant(id uuid) RETURNS platform.tenants
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.activate_tenant(id);
    SELECT t FROM platform.tenants t WHERE t.id = activate_tenant.id;
$$;

CREATE FUNCTION platform.delete_tenant(id uuid) RETURNS jsonb
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.delete_tenant(id);
$$;

CREATE FUNCTION platform.create_company(tenant_id uuid, name text) RETURNS platform.companies
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    id uuid := tenancy.create_company(tenant_id, name);
BEGIN
    RETURN (SELECT c FROM platform.companies c WHERE c.id = id);
END $$;

CREATE FUNCTION platform.enable_module(tenant_id uuid, module text, config jsonb DEFAULT '{}')
RETURNS platform.tenant_modules LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.enable_module(tenant_id, module, config);
    SELECT m FROM platform.tenant_modules m WHERE m.tenant_id = enable_module.tenant_id AND m.module = enable_module.module;
$$;

CREATE FUNCTION platform.disable_module(tenant_id uuid, module text)
RETURNS platform.tenant_modules LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.disable_module(tenant_id, module);
    SELECT m FROM platform.tenant_modules m WHERE m.tenant_id = disable_module.tenant_id AND m.module = disable_module.module;
$$;

CREATE FUNCTION platform.set_company_module(company_id uuid, module text, enabled bool DEFAULT true,
                                            config jsonb DEFAULT '{}')
RETURNS platform.companies LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.set_company_module(company_id, module, enabled, config);
    SELECT c FROM platform.companies c WHERE c.id = set_company_module.company_id;
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA platform FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA platform FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA platform TO platform_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA platform TO platform_admin;

-- The module grid of the caller's tenant: enabled and locked modules with an upgrade hint.
CREATE VIEW api.modules WITH (security_invoker = true) AS SELECT * FROM tenancy.module_grid();
GRANT SELECT ON api.modules TO tenant_member;
