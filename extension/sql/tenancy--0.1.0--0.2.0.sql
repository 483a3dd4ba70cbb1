-- tenancy 0.1.0 -> 0.2.0

-- pg_dump carries the catalog (sql/catalog.sql)
SELECT pg_catalog.pg_extension_config_dump('tenancy.plans', $$WHERE key NOT IN ('free', 'standard', 'premium', 'enterprise')$$);
-- one call per statement: each rewrites the extension's row
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.companies', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.company_modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.role_bindings', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_tables', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.events', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.events_id_seq', '');

-- protect and unprotect take a table out of the registry while they change it, and a guard
-- refuses any other DDL that weakens a registered table (sql/protect.sql)

-- Registered tables are written by delete_tenant with the extension owner's rights, so only
-- administrators may register (or unregister) one, and only a table they own.
CREATE FUNCTION tenancy._require_protect_rights(tbl regclass) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF NOT pg_has_role(tenancy._outer_role(), 'tenancy_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'permission denied to protect or unprotect %', tbl USING ERRCODE = '42501',
            HINT = 'Protecting a table registers it for tenant deletion: it needs membership in tenancy_admin.';
    END IF;
    IF NOT pg_has_role(tenancy._outer_role(), (SELECT relowner FROM pg_class WHERE oid = tbl), 'MEMBER') THEN
        RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = '42501';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION tenancy._register_protected(tbl regclass, module text, policy_check text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._require_protect_rights(tbl);
    INSERT INTO tenancy.protected_tables AS p (tbl, module, policy_check)
    VALUES (tbl, module, policy_check)
    ON CONFLICT ON CONSTRAINT protected_tables_pkey DO UPDATE
        SET module = excluded.module, policy_check = excluded.policy_check, protected_at = now();
    PERFORM tenancy._record(NULL, 'table.protected', jsonb_build_object('table', tbl::text, 'module', module));
END $$;

-- The guard below watches registered tables only: protect and unprotect take the table out
-- of the registry while they change its policies. True when it was registered.
CREATE FUNCTION tenancy._unregister_protected(tbl regclass) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._require_protect_rights(tbl);
    DELETE FROM tenancy.protected_tables p WHERE p.tbl = tbl;
    RETURN FOUND;
END $$;

CREATE OR REPLACE FUNCTION tenancy.protect(tbl regclass, module text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    rel record;
    tenant_col record;
    bad text;
    policy name;
    check_expr text := tenancy._policy_check(module);
BEGIN
    SELECT c.relkind, n.nspname INTO rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'cannot protect %: only tables can be protected', tbl USING ERRCODE = 'TN030';
    END IF;
    IF rel.nspname IN ('pg_catalog', 'information_schema', 'tenancy') THEN
        RAISE EXCEPTION 'cannot protect %: it is not in an application schema', tbl USING ERRCODE = 'TN030';
    END IF;
    IF module IS NOT NULL THEN
        PERFORM tenancy._module(module);
    END IF;
    SELECT a.attnum, a.atttypid INTO tenant_col
    FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = 'tenant_id' AND NOT a.attisdropped;
    IF FOUND AND tenant_col.atttypid <> 'uuid'::regtype THEN
        RAISE EXCEPTION 'cannot protect %: tenant_id is %, not uuid', tbl, tenant_col.atttypid::regtype
            USING ERRCODE = 'TN030';
    END IF;

    -- Keys that leave out tenant_id would let one tenant's row block (or point at) another's.
    SELECT string_agg(i.indexrelid::regclass::text, ', ') INTO bad
    FROM pg_index i
    WHERE i.indrelid = tbl AND i.indisunique AND (tenant_col.attnum IS NULL OR NOT tenant_col.attnum = ANY (i.indkey));
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'cannot protect %: primary key or unique constraint % does not include tenant_id', tbl, bad
            USING ERRCODE = 'TN030',
                  HINT = 'Make tenant_id part of every primary key and unique constraint, e.g. PRIMARY KEY (tenant_id, id).';
    END IF;
    SELECT string_agg(c.conname, ', ') INTO bad
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.conrelid = tbl
      AND EXISTS (SELECT FROM tenancy.protected_tables p WHERE p.tbl = c.confrelid)
      AND (tenant_col.attnum IS NULL OR NOT tenant_col.attnum = ANY (c.conkey));
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'cannot protect %: foreign key % to a tenant table does not include tenant_id', tbl, bad
            USING ERRCODE = 'TN030',
                  HINT = 'Reference (tenant_id, id) so a row can only point at rows of its own tenant.';
    END IF;

    PERFORM tenancy._unregister_protected(tbl);  -- registered again at the end
    IF tenant_col.attnum IS NULL THEN
        EXECUTE format('ALTER TABLE %s ADD COLUMN tenant_id uuid NOT NULL DEFAULT tenancy.current_tenant_id()', tbl);
    ELSE
        EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT tenancy.current_tenant_id(), '
                       'ALTER COLUMN tenant_id SET NOT NULL', tbl);
    END IF;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', tbl);

    FOR policy IN SELECT p.polname FROM pg_policy p WHERE p.polrelid = tbl AND p.polname IN
            ('tenancy_rows', 'tenancy_select', 'tenancy_insert', 'tenancy_update', 'tenancy_delete') LOOP
        EXECUTE format('DROP POLICY %I ON %s', policy, tbl);
    END LOOP;
    EXECUTE format('CREATE POLICY tenancy_rows ON %1$s AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
                    CREATE POLICY tenancy_select ON %1$s AS RESTRICTIVE FOR SELECT USING (%2$s);
                    CREATE POLICY tenancy_insert ON %1$s AS RESTRICTIVE FOR INSERT WITH CHECK (%2$s);
                    CREATE POLICY tenancy_update ON %1$s AS RESTRICTIVE FOR UPDATE USING (%2$s) WITH CHECK (%2$s);
                    CREATE POLICY tenancy_delete ON %1$s AS RESTRICTIVE FOR DELETE USING (%2$s);
                    COMMENT ON POLICY tenancy_rows ON %1$s IS %3$L;',
                   tbl, check_expr,
                   'Lets rows through to the restrictive tenancy_* policies, which confine them to the current tenant.');

    IF NOT EXISTS (
        SELECT FROM pg_index i WHERE i.indrelid = tbl AND i.indkey[0] = (
            SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = 'tenant_id')
    ) THEN
        EXECUTE format('CREATE INDEX ON %s (tenant_id)', tbl);
    END IF;

    PERFORM tenancy._register_protected(tbl, module,
        (SELECT pg_get_expr(p.polqual, p.polrelid) FROM pg_policy p WHERE p.polrelid = tbl AND p.polname = 'tenancy_select'));
END $$;

CREATE FUNCTION tenancy.unprotect(tbl regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    policy name;
BEGIN
    IF NOT tenancy._unregister_protected(tbl) THEN
        RAISE EXCEPTION '% is not protected', tbl USING ERRCODE = 'TN030';
    END IF;
    FOR policy IN SELECT p.polname FROM pg_policy p WHERE p.polrelid = tbl AND p.polname IN
            ('tenancy_rows', 'tenancy_select', 'tenancy_insert', 'tenancy_update', 'tenancy_delete') LOOP
        EXECUTE format('DROP POLICY %I ON %s', policy, tbl);
    END LOOP;
    EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY, '
                   'ALTER COLUMN tenant_id DROP DEFAULT', tbl);
    PERFORM tenancy._record(NULL, 'table.unprotected', jsonb_build_object('table', tbl::text));
END $$;
COMMENT ON FUNCTION tenancy.unprotect(regclass) IS
'Removes what tenancy.protect installed (the tenancy policies, row level security, the tenant_id default) and the registration, and records it as an event: the one way past the guard. tenant_id stays, so unprotected_tables() lists the table until it is protected again or the column is dropped.';

-- The guard: a DDL statement may not add a problem unprotected_tables() knows of to a
-- registered table (RLS disabled or not forced, a policy dropped or altered, the tenant_id
-- default or NOT NULL dropped, a unique index without tenant_id). Problems are compared
-- before and after each statement, so a restore, which builds a registered table's policies
-- after its data and registry row, is not refused. Dropped indexes are not seen here
-- (sql_drop does not say whose they were); unprotected_tables() and `tenancy doctor` find them.
CREATE FUNCTION tenancy._registered_problems() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(u.table_name::oid || ' ' || u.problem), '{}')
    FROM tenancy.unprotected_tables() u JOIN tenancy.protected_tables p ON p.tbl = u.table_name;
$$;

CREATE FUNCTION tenancy._guard_before() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM set_config('tenancy.guard_before', tenancy._registered_problems()::text, true);
END $$;

CREATE FUNCTION tenancy._guard_protected_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    touched oid[];
    weakened record;
BEGIN
    IF TG_EVENT = 'sql_drop' THEN
        SELECT array_agg(to_regclass(format('%I.%I', o.address_names[1], o.address_names[2]))::oid) INTO touched
        FROM pg_event_trigger_dropped_objects() o WHERE o.object_type = 'policy';
    ELSE
        SELECT array_agg(CASE c.classid
                         WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = c.objid)
                         ELSE coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = c.objid), c.objid) END)
        INTO touched
        FROM pg_event_trigger_ddl_commands() c WHERE c.classid IN ('pg_class'::regclass, 'pg_policy'::regclass);
    END IF;
    SELECT split_part(p, ' ', 1)::oid::regclass AS tbl, string_agg(substr(p, strpos(p, ' ') + 1), '; ') AS problems
    INTO weakened
    FROM unnest(tenancy._registered_problems()) p
    WHERE split_part(p, ' ', 1)::oid = ANY (touched)
      AND NOT p = ANY (coalesce(nullif(current_setting('tenancy.guard_before', true), ''), '{}')::text[])
    GROUP BY 1 ORDER BY 1::text LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot weaken protected table %: %', weakened.tbl, weakened.problems
            USING ERRCODE = 'TN031',
                  HINT = format('tenancy.unprotect(%L) removes the protection deliberately and records it; '
                                'tenancy.protect restores it.', weakened.tbl::text);
    END IF;
END $$;
CREATE EVENT TRIGGER tenancy_guard_before ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'ALTER POLICY', 'CREATE INDEX', 'CREATE POLICY', 'DROP POLICY')
    EXECUTE FUNCTION tenancy._guard_before();
CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER POLICY', 'CREATE INDEX', 'CREATE POLICY')
    EXECUTE FUNCTION tenancy._guard_protected_tables();
CREATE EVENT TRIGGER tenancy_guard_drop ON sql_drop
    WHEN TAG IN ('DROP POLICY')
    EXECUTE FUNCTION tenancy._guard_protected_tables();

REVOKE EXECUTE ON FUNCTION tenancy._require_protect_rights(regclass), tenancy._unregister_protected(regclass),
    tenancy.unprotect(regclass), tenancy._guard_protected_tables(), tenancy._guard_before(),
    tenancy._registered_problems() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.unprotect(regclass), tenancy._require_protect_rights(regclass),
    tenancy._unregister_protected(regclass) TO PUBLIC;

-- tenant administration: update_tenant (sql/tenants.sql), the module grid (sql/modules.sql)
CREATE FUNCTION tenancy.update_tenant(tenant uuid, name text DEFAULT NULL, theme jsonb DEFAULT NULL,
                                      plan text DEFAULT NULL, contact_email text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    stranded text;
BEGIN
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
REVOKE EXECUTE ON FUNCTION tenancy.update_tenant(uuid, text, jsonb, text, text), tenancy.module_grid() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.module_grid() TO PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.update_tenant(uuid, text, jsonb, text, text) TO tenancy_admin;
