-- Tenant lifecycle. SQLSTATEs: TN001 unknown tenant, TN040 invalid or reserved slug,
-- TN041 unknown plan, 23505 slug taken, TN043 scheduled for deletion, TN044 not scheduled.

CREATE FUNCTION tenancy._check_slug(slug text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' THEN
        RAISE EXCEPTION 'invalid tenant slug "%"', slug
            USING ERRCODE = 'TN040',
                  DETAIL = 'A slug is a DNS label: 1-63 characters of a-z, 0-9 and "-", not starting or ending with "-".';
    END IF;
    IF slug = ANY ('{www,api,admin,app,auth,login,mail,smtp,imap,pop,ftp,ns1,ns2,dns,static,assets,cdn,media,
                     docs,help,support,status,blog,dashboard,console,platform,billing,root,system,tenancy,
                     public,internal,dev,test,staging}'::text[]) THEN
        RAISE EXCEPTION 'tenant slug "%" is reserved', slug USING ERRCODE = 'TN040';
    END IF;
END $$;

CREATE FUNCTION tenancy._check_plan(plan text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
BEGIN
    IF NOT EXISTS (SELECT FROM tenancy.plans p WHERE p.key = plan) THEN
        RAISE EXCEPTION 'unknown plan "%"', plan USING ERRCODE = 'TN041',
            DETAIL = format('plans: %s', (SELECT string_agg(key, ', ' ORDER BY rank) FROM tenancy.plans));
    END IF;
END $$;

CREATE FUNCTION tenancy.create_tenant(slug text, name text, plan text DEFAULT 'free',
                                      theme jsonb DEFAULT '{}', modules text[] DEFAULT '{}')
RETURNS uuid LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    id uuid;
    pending text[] := ARRAY(SELECT DISTINCT unnest(coalesce(modules, '{}')));
    ready text[];
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._check_slug(slug);
    PERFORM tenancy._check_plan(plan);
    IF EXISTS (SELECT FROM tenancy.tenants t WHERE t.slug = create_tenant.slug) THEN
        RAISE EXCEPTION 'tenant slug "%" is taken', slug USING ERRCODE = '23505';
    END IF;
    INSERT INTO tenancy.tenants (slug, name, plan, theme)
    VALUES (slug, name, plan, coalesce(theme, '{}')) RETURNING tenants.id INTO id;
    PERFORM tenancy._record(id, 'tenant.created', jsonb_build_object('slug', slug, 'plan', plan));
    -- Enable in dependency order; what never becomes ready is enabled anyway to get its error.
    WHILE cardinality(pending) > 0 LOOP
        ready := ARRAY(SELECT p FROM unnest(pending) p JOIN tenancy.modules m ON m.key = p
                       WHERE m.requires <@ tenancy._enabled_modules(id, NULL));
        IF cardinality(ready) = 0 THEN
            ready := pending[1:1];
        END IF;
        PERFORM tenancy.enable_module(id, r) FROM unnest(ready) r;
        pending := ARRAY(SELECT unnest(pending) EXCEPT SELECT unnest(ready));
    END LOOP;
    RETURN id;
END $$;
COMMENT ON FUNCTION tenancy.create_tenant(text, text, text, jsonb, text[]) IS
'Creates a tenant with its plan, theme and modules (core modules are always on) and returns its id. TN040 bad or reserved slug, TN041 unknown plan, 23505 slug taken, and enable_module''s errors.';

CREATE FUNCTION tenancy.update_tenant(tenant uuid, name text DEFAULT NULL, theme jsonb DEFAULT NULL,
                                      plan text DEFAULT NULL, contact_email text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    stranded text;
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    IF theme IS NOT NULL AND jsonb_typeof(theme) <> 'object' THEN
        RAISE EXCEPTION 'a theme must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF plan IS NOT NULL THEN
        PERFORM tenancy._check_plan(plan);
        -- a plan below an enabled module's tier would leave the tenant with what it did not buy
        SELECT string_agg(format('"%s" (%s)', m.key, m.required_tier), ', ' ORDER BY m.key) INTO stranded
        FROM tenancy.tenant_modules tm JOIN tenancy.modules m ON m.key = tm.module
        WHERE tm.tenant_id = tenant AND tm.enabled
          AND (SELECT rank FROM tenancy.plans p WHERE p.key = m.required_tier)
              > (SELECT rank FROM tenancy.plans p WHERE p.key = plan);
        IF stranded IS NOT NULL THEN
            RAISE EXCEPTION 'plan "%" is below the tier of enabled module(s) %', plan, stranded
                USING ERRCODE = 'TN021', HINT = 'Disable those modules first.';
        END IF;
    END IF;
    UPDATE tenancy.tenants t
    SET name = coalesce(update_tenant.name, t.name), theme = coalesce(update_tenant.theme, t.theme),
        plan = coalesce(update_tenant.plan, t.plan), contact_email = coalesce(update_tenant.contact_email, t.contact_email),
        updated_at = now()
    WHERE t.id = tenant;
    PERFORM tenancy._record(tenant, 'tenant.updated', jsonb_strip_nulls(jsonb_build_object(
        'name', name, 'theme', theme, 'plan', plan, 'contact_email', contact_email)));
END $$;
COMMENT ON FUNCTION tenancy.update_tenant(uuid, text, jsonb, text, text) IS
'Changes a tenant''s name, theme, plan or contact e-mail (NULL leaves a field as it is). TN041 unknown plan, TN021 when the new plan is below the tier of a module the tenant has enabled.';

CREATE FUNCTION tenancy._set_status(tenant uuid, new_status text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    UPDATE tenancy.tenants t SET status = new_status, updated_at = now()
    WHERE t.id = tenant AND t.status <> new_status;
    IF FOUND THEN
        PERFORM tenancy._record(tenant, 'tenant.' || CASE new_status WHEN 'active' THEN 'activated' ELSE 'suspended' END);
    END IF;
END $$;

CREATE FUNCTION tenancy.suspend_tenant(tenant uuid) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(tenant, 'suspended');
$$;
COMMENT ON FUNCTION tenancy.suspend_tenant(uuid) IS
'Suspends a tenant: from the next transaction on, entering it or using a binding to it fails with TN002. Its data is kept.';

CREATE FUNCTION tenancy.activate_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._require_not_scheduled(tenant);
    PERFORM tenancy._set_status(tenant, 'active');
END $$;
COMMENT ON FUNCTION tenancy.activate_tenant(uuid) IS
'Reactivates a suspended tenant. TN043 while it is scheduled for deletion (tenancy.restore_tenant cancels that).';

CREATE FUNCTION tenancy.create_company(tenant uuid, name text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    id uuid;
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    INSERT INTO tenancy.companies (tenant_id, name) VALUES (tenant, name) RETURNING companies.id INTO id;
    PERFORM tenancy._record(tenant, 'company.created', jsonb_build_object('company', id, 'name', name));
    RETURN id;
END $$;
COMMENT ON FUNCTION tenancy.create_company(uuid, text) IS
'Creates a company (school, branch) under a tenant and returns its id.';

-- Protected tables in an order where every table comes before the tables it references, so
-- deleting in this order never trips a foreign key.
CREATE FUNCTION tenancy._protected_tables_children_first() RETURNS regclass[]
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    remaining regclass[] := ARRAY(SELECT tbl FROM tenancy.protected_tables ORDER BY tbl::text);
    ordered regclass[] := '{}';
    leaves regclass[];
BEGIN
    WHILE cardinality(remaining) > 0 LOOP
        -- leaves: tables no other remaining table references
        leaves := ARRAY(SELECT r FROM unnest(remaining) r WHERE NOT EXISTS (
            SELECT FROM pg_constraint c
            WHERE c.contype = 'f' AND c.confrelid = r AND c.conrelid <> r AND c.conrelid = ANY (remaining)));
        IF cardinality(leaves) = 0 THEN
            leaves := remaining;  -- a cycle: its foreign keys must be deferrable or cascading
        END IF;
        ordered := ordered || leaves;
        remaining := ARRAY(SELECT unnest(remaining) EXCEPT SELECT unnest(leaves));
    END LOOP;
    RETURN ordered;
END $$;

-- Deleting a tenant is two steps: delete_tenant suspends it and schedules the erasure after a
-- grace period, during which restore_tenant undoes it; erase_tenant (or erase_due_tenants,
-- once the grace period is over) removes its rows for good. A table of its own, so the
-- tenants rows stay as they were.
CREATE TABLE tenancy.tenant_deletions (
    tenant_id     uuid PRIMARY KEY REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    erase_after   timestamptz NOT NULL,
    status_before text NOT NULL
);
COMMENT ON TABLE tenancy.tenant_deletions IS 'Tenants scheduled for deletion (tenancy.delete_tenant): suspended until erase_after, when tenancy.erase_due_tenants erases them, unless tenancy.restore_tenant cancels it first.';
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_deletions', '');
REVOKE ALL ON tenancy.tenant_deletions FROM PUBLIC;

CREATE FUNCTION tenancy._require_not_scheduled(tenant uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    erase_after timestamptz;
BEGIN
    SELECT d.erase_after INTO erase_after FROM tenancy.tenant_deletions d WHERE d.tenant_id = tenant;
    IF FOUND THEN
        RAISE EXCEPTION 'tenant "%" is scheduled for deletion on %', (SELECT t.slug FROM tenancy.tenants t WHERE t.id = tenant),
                        erase_after
            USING ERRCODE = 'TN043', HINT = 'tenancy.restore_tenant cancels the deletion.';
    END IF;
END $$;

CREATE FUNCTION tenancy.delete_tenant(tenant uuid, grace interval DEFAULT interval '30 days') RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    t tenancy.tenants;
    erase_after timestamptz;
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    PERFORM tenancy._require_not_scheduled(tenant);
    IF grace IS NULL OR grace < interval '0' THEN
        RAISE EXCEPTION 'grace must be a period of zero or more, not %', coalesce(grace::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    SELECT * INTO t FROM tenancy.tenants tn WHERE tn.id = tenant FOR UPDATE;
    INSERT INTO tenancy.tenant_deletions (tenant_id, erase_after, status_before)
    VALUES (tenant, now() + grace, t.status) RETURNING tenant_deletions.erase_after INTO erase_after;
    UPDATE tenancy.tenants tn SET status = 'suspended', updated_at = now() WHERE tn.id = tenant;
    PERFORM tenancy._record(tenant, 'tenant.deletion_scheduled', jsonb_build_object('slug', t.slug, 'erase_after', erase_after));
    RETURN jsonb_build_object('tenant', tenant, 'slug', t.slug, 'status', 'suspended', 'erase_after', erase_after);
END $$;
COMMENT ON FUNCTION tenancy.delete_tenant(uuid, interval) IS
'Deletes a tenant softly: suspends it at once and schedules the erasure of everything it owns after the grace period (30 days unless given); tenancy.restore_tenant cancels it until then. Returns {tenant, slug, status, erase_after}. TN001 unknown tenant, TN043 already scheduled.';

CREATE FUNCTION tenancy.restore_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    status_before text;
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    DELETE FROM tenancy.tenant_deletions d WHERE d.tenant_id = tenant RETURNING d.status_before INTO status_before;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tenant "%" is not scheduled for deletion', (SELECT t.slug FROM tenancy.tenants t WHERE t.id = tenant)
            USING ERRCODE = 'TN044';
    END IF;
    UPDATE tenancy.tenants t SET status = status_before, updated_at = now() WHERE t.id = tenant;
    PERFORM tenancy._record(tenant, 'tenant.restored', jsonb_build_object('status', status_before));
END $$;
COMMENT ON FUNCTION tenancy.restore_tenant(uuid) IS
'Cancels a scheduled deletion: the tenant gets back the status it had before tenancy.delete_tenant. TN044 when no deletion is scheduled.';

CREATE FUNCTION tenancy.erase_tenant(tenant uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    tbl regclass;
    n bigint;
    removed jsonb := '{}';
    slug text;
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    SELECT t.slug INTO slug FROM tenancy.tenants t WHERE t.id = tenant FOR UPDATE;
    FOREACH tbl IN ARRAY tenancy._protected_tables_children_first() LOOP
        EXECUTE format('DELETE FROM %s WHERE tenant_id = $1', tbl) USING tenant;
        GET DIAGNOSTICS n = ROW_COUNT;
        removed := removed || jsonb_build_object(tbl::text, n);
    END LOOP;
    DELETE FROM tenancy.tenants t WHERE t.id = tenant;
    PERFORM tenancy._record(tenant, 'tenant.erased', jsonb_build_object('slug', slug, 'rows_removed', removed));
    PERFORM tenancy._context_forget();
    RETURN removed;
END $$;
COMMENT ON FUNCTION tenancy.erase_tenant(uuid) IS
'Erases a tenant for good, now, whether or not a deletion was scheduled: its companies, module settings and bindings, and every row it owns in every protected table, in one transaction. Returns the rows removed per table. TN001 unknown tenant.';

CREATE FUNCTION tenancy.erase_due_tenants() RETURNS TABLE (tenant_id uuid, slug text, rows_removed jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    due record;
BEGIN
    FOR due IN SELECT d.tenant_id, t.slug FROM tenancy.tenant_deletions d JOIN tenancy.tenants t ON t.id = d.tenant_id
               WHERE d.erase_after <= now() ORDER BY d.erase_after, t.slug LOOP
        tenant_id := due.tenant_id;
        slug := due.slug;
        rows_removed := tenancy.erase_tenant(due.tenant_id);
        RETURN NEXT;
    END LOOP;
END $$;
COMMENT ON FUNCTION tenancy.erase_due_tenants() IS
'Erases every tenant whose scheduled deletion is due (grace period over), as tenancy.erase_tenant does, and returns what went: run it daily (cron, pg_cron).';

CREATE FUNCTION tenancy.tenant_row_counts(tenant uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    tbl regclass;
    n bigint;
    counts jsonb := '{}';
BEGIN
    PERFORM tenancy._tenant_status(tenant);
    FOR tbl IN SELECT p.tbl FROM tenancy.protected_tables p ORDER BY p.tbl::text LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id = $1', tbl) INTO n USING tenant;
        counts := counts || jsonb_build_object(tbl::text, n);
    END LOOP;
    RETURN counts;
END $$;
COMMENT ON FUNCTION tenancy.tenant_row_counts(uuid) IS
'How many rows a tenant owns in each protected table, {"hrms.employees": 30, ...}: for its health page. Each count uses the tenant_id index. TN001 unknown tenant.';

CREATE FUNCTION tenancy.public_config(slug text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'slug', t.slug, 'name', t.name, 'theme', t.theme,
        'modules', (SELECT coalesce(jsonb_agg(jsonb_build_object('key', m.key, 'name', m.name, 'icon', m.icon)
                                              ORDER BY m.sort_order, m.key), '[]')
                    FROM tenancy.modules m WHERE m.key = ANY (tenancy._enabled_modules(t.id, NULL))))
    FROM tenancy.tenants t
    WHERE t.slug = public_config.slug AND t.status = 'active';
$$;
COMMENT ON FUNCTION tenancy.public_config(text) IS
'What anyone may know of an active tenant, by slug (subdomain): name, theme and enabled modules, for a login page or a module grid; NULL for an unknown or suspended tenant.';
