-- The views that read the catalog with their owner's rights, made to answer on Citus too.
-- Citus runs a query over a reference or distributed table as the querying role, shard by shard,
-- and checks that role's rights on each shard: a view's owner's rights do not reach there
-- (Citus issues 1683 and 6161). On a cluster, platform_admin reading platform.tenants and a
-- tenant administrator reading api.tenant_roles were refused "permission denied for table
-- tenants_102019". Two ways, by who reads:
-- * platform_admin, the operator, already sees every row and column of these tables through its
--   views: it may read the tables themselves (read only; every change still goes through the
--   functions). Its views keep their filters and joins in the query, so a search or a page of
--   tenants reads only what it needs;
-- * a tenant's views read one tenant's rows of tables that hold every tenant's: their readers
--   may not read the tables, so the views read through definer functions, which run the shard
--   queries as the functions' owner. Same columns, same rows, same TN071.

GRANT SELECT ON tenancy.tenants, tenancy.companies, tenancy.company_modules, tenancy.tenant_modules, tenancy.modules,
    tenancy.plans, tenancy.tenant_deletions, tenancy.events TO platform_admin;

CREATE FUNCTION api._tenant_roles()
RETURNS TABLE (name text, permissions text[], description text, is_default bool, members text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.name, r.permissions, r.description, r.tenant_id IS NULL,
           ARRAY(SELECT rm.member FROM tenancy.tenant_role_members rm
                 WHERE rm.tenant_id = tenancy.current_tenant_id() AND rm.role_name = r.name ORDER BY 1)
    FROM tenancy.tenant_roles r
    WHERE (r.tenant_id = tenancy.current_tenant_id()
           OR (r.tenant_id IS NULL AND NOT EXISTS (SELECT FROM tenancy.tenant_roles own
                                                   WHERE own.tenant_id = tenancy.current_tenant_id()
                                                     AND own.name = r.name)))
      AND (SELECT tenancy.require_permission('users:write'));
$$;
CREATE OR REPLACE VIEW api.tenant_roles AS SELECT * FROM api._tenant_roles();

CREATE FUNCTION api._company_configuration()
RETURNS TABLE (company_id uuid, company text, module text, module_name text, defaults jsonb, tenant_config jsonb,
               company_config jsonb, merged_config jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.id, c.name, m.key, m.name, m.config_defaults, tm.config, cm.config,
           tenancy.merge_config(tenancy.merge_config(m.config_defaults, tm.config), cm.config)
    FROM tenancy.companies c
    JOIN tenancy.tenant_modules tm ON tm.tenant_id = c.tenant_id AND tm.enabled
    JOIN tenancy.modules m ON m.key = tm.module
    LEFT JOIN tenancy.company_modules cm ON cm.company_id = c.id AND cm.module = m.key
    WHERE c.tenant_id = tenancy.current_tenant_id() AND (SELECT tenancy.require_permission('users:write'));
$$;
CREATE OR REPLACE VIEW api.company_configuration AS SELECT * FROM api._company_configuration();

CREATE FUNCTION api._members()
RETURNS TABLE (id uuid, email text, status text, joined_at timestamptz, last_sign_in_at timestamptz,
               tenant_roles text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT i.id, i.email, i.status, m.created_at, i.last_sign_in_at,
           ARRAY(SELECT r.role_name FROM tenancy.tenant_role_members r
                 WHERE r.tenant_id = m.tenant AND r.member = i.id::text ORDER BY 1)
    FROM auth.memberships m
    JOIN auth.identities i ON i.id = m.identity_id
    WHERE m.tenant = tenancy.current_tenant_id() AND (SELECT tenancy.require_permission('users:write'));
$$;
CREATE OR REPLACE VIEW api.members AS SELECT * FROM api._members();

-- A view's reader needs EXECUTE on the functions it calls.
REVOKE EXECUTE ON FUNCTION api._tenant_roles(), api._company_configuration(), api._members() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api._tenant_roles(), api._company_configuration(), api._members() TO tenant_member;
