-- The tenant context seen from SQL. State lives in the extension (src/tenant_context.rs);
-- these wrappers decide who may set it and resolve it from role bindings.
-- SQLSTATEs: TN001 unknown tenant, TN002 suspended tenant, TN003 company not of tenant,
-- TN004 no tenant context, 42501 not allowed to act for that tenant.

-- The extension caches who can be entered with which modules (src/entitlements.rs); any
-- change to the tables that answer it invalidates every backend's cache at commit.
CREATE FUNCTION tenancy._catalog_changed_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tenancy._catalog_changed();
    RETURN NULL;
END $$;
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._catalog_changed_trigger();
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.companies
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._catalog_changed_trigger();
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.modules
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._catalog_changed_trigger();
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.tenant_modules
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._catalog_changed_trigger();
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.company_modules
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._catalog_changed_trigger();

CREATE FUNCTION tenancy._tenant_status(tenant uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    found_status text;
BEGIN
    SELECT t.status INTO found_status FROM tenancy.tenants t WHERE t.id = tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tenant % does not exist', coalesce(tenant::text, 'NULL') USING ERRCODE = 'TN001';
    END IF;
    RETURN found_status;
END $$;

CREATE FUNCTION tenancy._require_active(tenant uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
BEGIN
    IF tenancy._tenant_status(tenant) = 'suspended' THEN
        RAISE EXCEPTION 'tenant "%" is suspended', (SELECT slug FROM tenancy.tenants WHERE id = tenant)
            USING ERRCODE = 'TN002', DETAIL = format('tenant id %s', tenant),
                  HINT = 'A platform administrator can reactivate it with tenancy.activate_tenant.';
    END IF;
END $$;

-- Entering happens in Rust (`_enter`, one saved-plan catalog read per request); this
-- wrapper is plain SQL so the planner inlines it, and only a refusal reaches plpgsql.
CREATE FUNCTION tenancy.enter_tenant(tenant uuid, company uuid DEFAULT NULL)
RETURNS void LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN tenancy._enter(tenant, company) THEN NULL ELSE tenancy._enter_refused(tenant, company) END;
$$;
COMMENT ON FUNCTION tenancy.enter_tenant(uuid, uuid) IS
'Acts for tenant (and optionally one of its companies) until the end of the current transaction. Only members of tenancy_service (NOINHERIT members too). TN001 unknown tenant, TN002 suspended, TN003 company of another tenant, 42501 not allowed.';

-- Why _enter said no, as the error the caller gets.
CREATE FUNCTION tenancy._enter_refused(tenant uuid, company uuid) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF NOT pg_has_role(tenancy._outer_role(), 'tenancy_service', 'MEMBER') THEN
        RAISE EXCEPTION 'permission denied to enter a tenant'
            USING ERRCODE = '42501',
                  DETAIL = format('role %s is not a member of tenancy_service', tenancy._outer_role()::regrole),
                  HINT = 'Analysts get their tenant from tenancy.bind_role; only the API''s login role enters tenants.';
    END IF;
    PERFORM tenancy._require_active(tenant);
    IF company IS NOT NULL AND NOT EXISTS (
        SELECT FROM tenancy.companies c WHERE c.id = company AND c.tenant_id = tenant
    ) THEN
        RAISE EXCEPTION 'company % does not belong to tenant %', company, tenant USING ERRCODE = 'TN003';
    END IF;
    RAISE EXCEPTION 'tenant % could not be entered', tenant;  -- unreachable: _enter refused for a reason above
END $$;

-- On a Citus worker: the tenant the coordinator session this backend serves chose (use_tenant
-- recorded it there; a statement outside a transaction block carries no sealed context).
CREATE FUNCTION tenancy._recorded_choice(role_oid oid) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    chosen uuid;
BEGIN
    IF NOT tenancy._citus_worker() THEN
        RETURN NULL;
    END IF;
    SELECT c.tenant_id INTO chosen FROM tenancy.tenant_choices c WHERE c.role = role_oid AND c.gpid = citus_backend_gpid();
    RETURN chosen;
END $$;

-- On a distributed cluster, use_tenant's choice written where the workers read it: this
-- session's row (none for NULL), and the rows of the role's sessions on this node that ended.
-- A global pid is the node id times 10^10 plus the process id.
CREATE FUNCTION tenancy._record_choice(chooser regrole, tenant uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    session bigint;
    alive bigint[];
BEGIN
    IF NOT tenancy._catalog_distributed() THEN
        RETURN;
    END IF;
    PERFORM tenancy._serialize_catalog_writes();
    session := citus_backend_gpid();
    -- read first: Citus plans no subquery over a local catalog view in a reference table's DELETE
    alive := ARRAY(SELECT a.pid FROM pg_stat_activity a WHERE a.pid IS NOT NULL);
    -- a regrole, which Citus sends by name: each node stores its own oid of the role
    DELETE FROM tenancy.tenant_choices c
    WHERE c.role = chooser AND c.gpid / 10000000000 = session / 10000000000
      AND (c.gpid = session OR NOT c.gpid % 10000000000 = ANY (alive));
    IF tenant IS NOT NULL THEN
        INSERT INTO tenancy.tenant_choices (role, gpid, tenant_id) VALUES (chooser, session, tenant);
    END IF;
END $$;

-- The caller's role bindings: one tenant, or the one chosen with use_tenant among several.
CREATE FUNCTION tenancy._resolve_binding() RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    role_oid oid := tenancy._outer_role();
    chosen uuid := tenancy._session_choice();
    bound uuid[];
    tenant uuid;
BEGIN
    SELECT array_agg(b.tenant_id) INTO bound FROM tenancy.role_bindings b WHERE b.role = role_oid;
    IF chosen IS NULL AND cardinality(bound) > 1 THEN
        chosen := tenancy._recorded_choice(role_oid);  -- on a Citus worker, the session's choice
    END IF;
    IF chosen = ANY (bound) THEN
        tenant := chosen;
    ELSIF cardinality(bound) = 1 THEN
        tenant := bound[1];
    END IF;
    IF tenant IS NOT NULL THEN
        PERFORM tenancy._require_active(tenant);
    END IF;
    -- Cache the answer, "no tenant" included, for the rest of the transaction.
    PERFORM tenancy._context_set(tenant, NULL, NULL, role_oid);
    RETURN tenant;
END $$;

-- The context in force, resolved: tenant and company (NULL: none) and the enabled modules.
CREATE FUNCTION tenancy._context(OUT tenant uuid, OUT company uuid, OUT modules text[])
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED AS $$
#variable_conflict use_variable
DECLARE
    resolved bool;
BEGIN
    SELECT c.resolved, c.tenant, c.company, c.modules INTO resolved, tenant, company, modules
    FROM tenancy._context_get() c;
    IF NOT resolved THEN
        tenant := tenancy._resolve_binding();
    END IF;
    IF tenant IS NOT NULL AND modules IS NULL THEN
        modules := tenancy._enabled_modules(tenant, company);
        PERFORM tenancy._context_set_modules(modules);
    END IF;
END $$;

-- The fast path is inlined into every policy's InitPlan: one call into the extension. The
-- slow path runs once per transaction for a role binding, or when there is no tenant.
CREATE FUNCTION tenancy._current_tenant_slow() RETURNS uuid
LANGUAGE sql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenant FROM tenancy._context();
$$;

CREATE FUNCTION tenancy.current_tenant_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT coalesce(tenancy._fast_tenant(), tenancy._current_tenant_slow());
$$;
COMMENT ON FUNCTION tenancy.current_tenant_id() IS
'The tenant the current transaction acts for: entered by the service role, or given by the caller''s role binding. NULL when none (then protected tables show no rows and refuse writes). No SET can change it.';

CREATE FUNCTION tenancy.current_company_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT company FROM tenancy._context();
$$;
COMMENT ON FUNCTION tenancy.current_company_id() IS
'The company the current transaction acts for, when enter_tenant named one; NULL otherwise.';

CREATE FUNCTION tenancy.use_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF tenant IS NOT NULL THEN
        IF NOT EXISTS (
            SELECT FROM tenancy.role_bindings b WHERE b.role = tenancy._outer_role() AND b.tenant_id = tenant
        ) THEN
            RAISE EXCEPTION 'role % is not bound to tenant %', tenancy._outer_role()::regrole, tenant
                USING ERRCODE = '42501', HINT = 'A platform administrator binds roles with tenancy.bind_role.';
        END IF;
        PERFORM tenancy._require_active(tenant);
    END IF;
    PERFORM tenancy._choose_tenant(tenant);
    PERFORM tenancy._record_choice(tenancy._outer_role()::regrole, tenant);
END $$;
COMMENT ON FUNCTION tenancy.use_tenant(uuid) IS
'For a role bound to several tenants: act for this one (NULL: none) for the rest of the session. Refused (42501) for a tenant the role is not bound to.';

CREATE FUNCTION tenancy.bind_role(role regrole, tenant uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    IF EXISTS (SELECT FROM pg_roles r WHERE r.oid = role AND (r.rolsuper OR r.rolbypassrls)) THEN
        RAISE EXCEPTION 'role % bypasses row-level security and cannot be bound to a tenant', role
            USING ERRCODE = '22023', HINT = 'Bind a role without SUPERUSER and BYPASSRLS.';
    END IF;
    INSERT INTO tenancy.role_bindings (role, tenant_id) VALUES (role, tenant) ON CONFLICT DO NOTHING;
    IF FOUND THEN
        PERFORM tenancy._record(tenant, 'role.bound', jsonb_build_object('role', role::text));
    END IF;
    PERFORM tenancy._context_forget();
END $$;
COMMENT ON FUNCTION tenancy.bind_role(regrole, uuid) IS
'Binds a login role to a tenant: bound to one, it acts for that tenant with no call; bound to several, it chooses with use_tenant.';

CREATE FUNCTION tenancy.unbind_role(role regrole, tenant uuid) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    DELETE FROM tenancy.role_bindings b WHERE b.role = unbind_role.role AND b.tenant_id = tenant;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM tenancy._record(tenant, 'role.unbound', jsonb_build_object('role', role::text));
    PERFORM tenancy._context_forget();
    RETURN true;
END $$;
COMMENT ON FUNCTION tenancy.unbind_role(regrole, uuid) IS
'Removes a role''s binding to a tenant; true if there was one.';

CREATE FUNCTION tenancy.bound_tenants() RETURNS TABLE (id uuid, slug text, name text, status text, chosen bool)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.id, t.slug, t.name, t.status, t.id IS NOT DISTINCT FROM tenancy._session_choice()
    FROM tenancy.role_bindings b JOIN tenancy.tenants t ON t.id = b.tenant_id
    WHERE b.role = tenancy._outer_role()
    ORDER BY t.slug;
$$;
COMMENT ON FUNCTION tenancy.bound_tenants() IS
'The tenants the calling role is bound to, and which one it chose with use_tenant.';

-- The REST server checks a request's subdomain against the token's tenant with this, while
-- it is still the service role.
CREATE FUNCTION tenancy.check_subdomain(tenant uuid, slug text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF NOT pg_has_role(tenancy._outer_role(), 'tenancy_service', 'MEMBER') THEN
        RAISE EXCEPTION 'permission denied to check subdomains' USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (SELECT FROM tenancy.tenants t WHERE t.id = tenant AND t.slug = slug) THEN
        RAISE EXCEPTION 'the subdomain "%" is not the tenant of the token', slug
            USING ERRCODE = 'TN005', HINT = 'A token may only be used on its own tenant''s subdomain.';
    END IF;
END $$;
COMMENT ON FUNCTION tenancy.check_subdomain(uuid, text) IS
'For the API''s service role: raises TN005 unless the tenant''s slug is this subdomain.';
