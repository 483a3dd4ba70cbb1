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

-- protect registers the check of writes too (write_permission)
ALTER TABLE tenancy.protected_tables ADD COLUMN write_check text;
COMMENT ON TABLE tenancy.protected_tables IS 'Tables made tenant-owned by tenancy.protect, their module, and the policy expressions it installed (to detect tampering): policy_check, and write_check for writes when they need a permission too.';
DROP FUNCTION tenancy._register_protected(regclass, text, text);
CREATE FUNCTION tenancy._register_protected(tbl regclass, module text, policy_check text, write_check text)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._require_protect_rights(tbl);
    INSERT INTO tenancy.protected_tables AS p (tbl, module, policy_check, write_check)
    VALUES (tbl, module, policy_check, nullif(write_check, policy_check))
    ON CONFLICT ON CONSTRAINT protected_tables_pkey DO UPDATE
        SET module = excluded.module, policy_check = excluded.policy_check, write_check = excluded.write_check,
            protected_at = excluded.protected_at;
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

-- protect declares analytics classes too (sql/analytics_privacy.sql): a new argument, so a
-- new signature; 0.1.0 granted protect to PUBLIC, and so does 0.2.0.
DROP FUNCTION tenancy.protect(regclass, text);
CREATE FUNCTION tenancy.protect(tbl regclass, module text DEFAULT NULL, analytics jsonb DEFAULT NULL,
                                write_permission text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    rel record;
    tenant_col record;
    bad text;
    policy name;
    distributed bool;
    check_expr text := tenancy._policy_check(module);
    write_expr text := tenancy._write_check(module, write_permission);
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
    IF write_permission IS NOT NULL THEN
        PERFORM tenancy._require_known_permissions(ARRAY[write_permission]);  -- sql/permissions.sql
    END IF;
    SELECT a.attnum, a.atttypid, a.attnotnull,
           (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d WHERE d.adrelid = tbl AND d.adnum = a.attnum) AS def
    INTO tenant_col
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
    -- Only when needed: Citus refuses any ALTER of a distributed table's distribution column.
    ELSIF NOT tenant_col.attnotnull OR tenant_col.def IS DISTINCT FROM 'tenancy.current_tenant_id()' THEN
        EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT tenancy.current_tenant_id(), '
                       'ALTER COLUMN tenant_id SET NOT NULL', tbl);
    END IF;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', tbl);

    FOR policy IN SELECT p.polname FROM pg_policy p WHERE p.polrelid = tbl AND p.polname IN
            ('tenancy_rows', 'tenancy_select', 'tenancy_insert', 'tenancy_update', 'tenancy_delete') LOOP
        EXECUTE format('DROP POLICY %I ON %s', policy, tbl);
    END LOOP;
    IF NOT tenancy._citus() THEN
        EXECUTE format('CREATE POLICY tenancy_rows ON %1$s AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
                        COMMENT ON POLICY tenancy_rows ON %1$s IS %2$L;',
                       tbl, 'Lets rows through to the restrictive tenancy_* policies, which confine them to the current tenant.');
    END IF;
    EXECUTE format('CREATE POLICY tenancy_select ON %1$s AS %3$s FOR SELECT USING (%2$s);
                    CREATE POLICY tenancy_insert ON %1$s AS %3$s FOR INSERT WITH CHECK (%4$s);
                    CREATE POLICY tenancy_update ON %1$s AS %3$s FOR UPDATE USING (%4$s) WITH CHECK (%4$s);
                    CREATE POLICY tenancy_delete ON %1$s AS %3$s FOR DELETE USING (%4$s);',
                   tbl, check_expr, CASE WHEN tenancy._citus() THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, write_expr);

    -- On Citus the table is spread over the workers by tenant, co-located with the other
    -- protected tables: each request of a tenant reads one shard of each. Until the database is
    -- distributed (sql/citus.sql), tenancy.distribute does it with the rest.
    IF tenancy._catalog_distributed() THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = $1)' INTO distributed USING tbl;
        IF NOT distributed THEN
            EXECUTE 'SELECT create_distributed_table($1, ''tenant_id'')' USING tbl;
        END IF;
    END IF;

    IF NOT EXISTS (
        SELECT FROM pg_index i WHERE i.indrelid = tbl AND i.indkey[0] = (
            SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = 'tenant_id')
    ) THEN
        EXECUTE format('CREATE INDEX ON %s (tenant_id)', tbl);
    END IF;

    PERFORM tenancy._register_protected(tbl, module,
        (SELECT pg_get_expr(p.polqual, p.polrelid) FROM pg_policy p WHERE p.polrelid = tbl AND p.polname = 'tenancy_select'),
        (SELECT pg_get_expr(p.polwithcheck, p.polrelid) FROM pg_policy p WHERE p.polrelid = tbl AND p.polname = 'tenancy_insert'));
    IF analytics IS NOT NULL THEN
        PERFORM tenancy._declare_analytics_columns(tbl, analytics);  -- sql/analytics_privacy.sql
    END IF;
END $$;
COMMENT ON FUNCTION tenancy.protect(regclass, text, jsonb, text) IS
'Makes a table tenant-owned in one idempotent call: tenant_id uuid NOT NULL defaulting to the current tenant, RLS enabled and forced, restrictive policies for SELECT/INSERT/UPDATE/DELETE (with WITH CHECK) on the tenant and the module, an index led by tenant_id, and registration under the module. analytics, when given, replaces the analytics classes of its columns: {"col": "dimension" | "measure" | "private" | {"class": ..., "extremes": bool, "reason": text}}; undeclared columns are private. write_permission, when given, is a module permission that inserts, updates and deletes also need (TN071 without it). TN030 when a key or foreign key leaves out tenant_id, TN068 for an invalid class, TN070 for an unknown permission.';

REVOKE EXECUTE ON FUNCTION tenancy.protect(regclass, text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.protect(regclass, text, jsonb, text) TO PUBLIC;

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
-- Nothing registered, nothing to check: a Citus worker (whose registry is empty) creates and
-- alters shards without scanning every table, which deadlocked two concurrent shard splits.
-- (here, before the guard below calls it during the rest of this script)
CREATE FUNCTION tenancy._citus() RETURNS bool
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus');
$$;

-- A Citus worker is guarded by its coordinator: the DDL it runs is Citus's own on shards, and
-- reading the catalog (reference tables there) from inside a shard command is refused.
CREATE FUNCTION tenancy._citus_worker() RETURNS bool
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tenancy._citus() THEN
        RETURN false;
    END IF;
    RETURN (SELECT groupid <> 0 FROM pg_dist_local_group);
END $$;

-- (plpgsql, one statement at a time: Citus refuses a statement that names the catalog while
-- it is planned on a worker, even in a branch that never runs)
CREATE FUNCTION tenancy._registered_problems() RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF tenancy._citus_worker() THEN
        RETURN '{}';
    END IF;
    IF NOT EXISTS (SELECT FROM tenancy.protected_tables) THEN
        RETURN '{}';
    END IF;
    RETURN (SELECT coalesce(array_agg(u.table_name::oid || ' ' || u.problem), '{}')
            FROM tenancy.unprotected_tables() u JOIN tenancy.protected_tables p ON p.tbl = u.table_name);
END $$;

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
    tenancy._registered_problems(), tenancy._citus_worker() FROM PUBLIC;
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

-- module permissions (sql/permissions.sql): who acts, named by the service role
CREATE FUNCTION tenancy."_context_set_user"(
	"user_id" TEXT, /* Option < String > */
	"roles" TEXT[] /* :: std :: option :: Option < Vec < String > > */
) RETURNS bool /* bool */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'context_set_user_wrapper';
CREATE FUNCTION tenancy."_context_user"() RETURNS TABLE (
	"user_id" TEXT,  /* Option < String > */
	"roles" TEXT[]  /* :: std :: option :: Option < Vec < String > > */
)
STRICT STABLE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'context_user_wrapper';

-- Module permissions. A module declares "<module>:<action>" permissions in its manifest; a
-- tenant role is a named set of them (defined for one tenant, or with tenant NULL as every
-- tenant's default); who acts holds tenant roles claimed by their token (named by the
-- service role with set_user) or granted in tenant_role_members.
-- SQLSTATEs: TN070 unknown permission or tenant role, TN071 permission denied.

CREATE TABLE tenancy.tenant_roles (
    tenant_id   uuid REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    permissions text[] NOT NULL DEFAULT '{}',
    description text
);
CREATE UNIQUE INDEX tenant_roles_name ON tenancy.tenant_roles
    (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'), name);
COMMENT ON TABLE tenancy.tenant_roles IS
'Tenant roles: named sets of module permissions. tenant_id NULL: a default every tenant has unless it defines its own of that name.';

CREATE TABLE tenancy.tenant_role_members (
    tenant_id uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    member    text NOT NULL,
    role_name text NOT NULL,
    PRIMARY KEY (tenant_id, member, role_name)
);
COMMENT ON TABLE tenancy.tenant_role_members IS
'Who holds which tenant role in a tenant: member is a user id (the token''s subject, as set_user names it) or a database role name (an analyst).';

SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_roles', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_role_members', '');

-- The permissions no installed module declares (a "<module>:*" wildcard needs the module).
CREATE FUNCTION tenancy._unknown_permissions(permissions text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(p ORDER BY p), '{}') FROM unnest(permissions) p
    WHERE NOT EXISTS (SELECT FROM tenancy.modules m
                      WHERE p = ANY (m.permissions) OR p = m.key || ':*');
$$;

CREATE FUNCTION tenancy._require_known_permissions(permissions text[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    unknown text[] := tenancy._unknown_permissions(permissions);
BEGIN
    IF cardinality(unknown) > 0 THEN
        RAISE EXCEPTION 'unknown permission(s) %', array_to_string(unknown, ', ') USING ERRCODE = 'TN070',
            HINT = 'Permissions are "<module>:<action>" as declared by an installed module''s manifest, or "<module>:*".';
    END IF;
END $$;

-- A tenant's roles by name: its own definition, else the default.
CREATE FUNCTION tenancy._role_permissions(tenant uuid, roles text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT p), '{}')
    FROM (SELECT DISTINCT ON (r.name) r.permissions FROM tenancy.tenant_roles r
          WHERE (r.tenant_id = tenant OR r.tenant_id IS NULL) AND r.name = ANY (roles)
          ORDER BY r.name, r.tenant_id NULLS LAST) defined, unnest(defined.permissions) p;
$$;

CREATE FUNCTION tenancy.define_tenant_role(tenant uuid, name text, permissions text[], description text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    IF tenant IS NOT NULL THEN
        PERFORM tenancy._tenant_status(tenant);
    END IF;
    PERFORM tenancy._require_known_permissions(permissions);
    DELETE FROM tenancy.tenant_roles r WHERE r.tenant_id IS NOT DISTINCT FROM tenant AND r.name = define_tenant_role.name;
    INSERT INTO tenancy.tenant_roles (tenant_id, name, permissions, description)
    SELECT tenant, name, ARRAY(SELECT DISTINCT unnest(permissions) ORDER BY 1), description;  -- (Citus: no subquery in VALUES)
    PERFORM tenancy._record(tenant, 'role.defined', jsonb_build_object('role', name, 'permissions', permissions));
END $$;
COMMENT ON FUNCTION tenancy.define_tenant_role(uuid, text, text[], text) IS
'Defines (or redefines) a tenant role as a set of module permissions; tenant NULL defines a default every tenant has unless it defines its own of that name. TN070 for a permission no installed module declares.';

CREATE FUNCTION tenancy.drop_tenant_role(tenant uuid, name text) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    DELETE FROM tenancy.tenant_roles r WHERE r.tenant_id IS NOT DISTINCT FROM tenant AND r.name = drop_tenant_role.name;
    IF FOUND THEN
        PERFORM tenancy._record(tenant, 'role.dropped', jsonb_build_object('role', name));
    END IF;
    RETURN FOUND;
END $$;
COMMENT ON FUNCTION tenancy.drop_tenant_role(uuid, text) IS
'Drops a tenant''s own role definition (or, with tenant NULL, a default). Its holders keep the name, which then grants what a default of that name grants, or nothing.';

CREATE FUNCTION tenancy.grant_tenant_role(tenant uuid, member text, role text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    IF NOT EXISTS (SELECT FROM tenancy.tenant_roles r WHERE (r.tenant_id = tenant OR r.tenant_id IS NULL) AND r.name = role) THEN
        RAISE EXCEPTION 'tenant role "%" is not defined', role USING ERRCODE = 'TN070';
    END IF;
    INSERT INTO tenancy.tenant_role_members (tenant_id, member, role_name) VALUES (tenant, member, role)
    ON CONFLICT ON CONSTRAINT tenant_role_members_pkey DO NOTHING;
    PERFORM tenancy._record(tenant, 'role.granted', jsonb_build_object('role', role, 'member', member));
END $$;
COMMENT ON FUNCTION tenancy.grant_tenant_role(uuid, text, text) IS
'Gives member (a user id, the token''s subject, or a database role name) a tenant role in a tenant. TN070 when the role is not defined for it.';

CREATE FUNCTION tenancy.revoke_tenant_role(tenant uuid, member text, role text) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    DELETE FROM tenancy.tenant_role_members m
    WHERE m.tenant_id = tenant AND m.member = revoke_tenant_role.member AND m.role_name = role;
    IF FOUND THEN
        PERFORM tenancy._record(tenant, 'role.revoked', jsonb_build_object('role', role, 'member', member));
    END IF;
    RETURN FOUND;
END $$;
COMMENT ON FUNCTION tenancy.revoke_tenant_role(uuid, text, text) IS 'Takes a tenant role back from a member.';

CREATE FUNCTION tenancy.set_user(user_id text, tenant_roles text[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF NOT pg_has_role(tenancy._outer_role(), 'tenancy_service', 'MEMBER') THEN
        RAISE EXCEPTION 'permission denied to name the user' USING ERRCODE = '42501',
            HINT = 'Only the service role, which checked the token, may say who acts.';
    END IF;
    IF NOT tenancy._context_set_user(user_id, tenant_roles) THEN
        RAISE EXCEPTION 'set_user needs a tenant entered with enter_tenant in this transaction' USING ERRCODE = 'TN004';
    END IF;
END $$;
COMMENT ON FUNCTION tenancy.set_user(text, text[]) IS
'For the service role, after enter_tenant: who acts (the token''s subject) and the tenant roles the token claims, until the end of the transaction. 42501 for anyone else, TN004 without an entered tenant.';

CREATE FUNCTION tenancy.current_tenant_roles() RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    tenant uuid := (tenancy._context()).tenant;
    acting record;
BEGIN
    IF tenant IS NULL THEN
        RETURN '{}';
    END IF;
    SELECT * INTO acting FROM tenancy._context_user();
    RETURN ARRAY(
        SELECT unnest(coalesce(acting.roles, '{}'))
        UNION
        SELECT m.role_name FROM tenancy.tenant_role_members m
        WHERE m.tenant_id = tenant AND m.member = coalesce(acting.user_id, tenancy._outer_role()::regrole::text)
        ORDER BY 1);
END $$;
COMMENT ON FUNCTION tenancy.current_tenant_roles() IS
'The tenant roles of who acts in the current tenant: those their token claims (set_user) and those granted to them (to the token''s subject, or else to the database role acting). Empty without a tenant.';

CREATE FUNCTION tenancy.current_permissions() RETURNS text[]
LANGUAGE sql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(p ORDER BY p), '{}')
    FROM tenancy._context() c, unnest(tenancy._role_permissions(c.tenant, tenancy.current_tenant_roles())) p
    WHERE split_part(p, ':', 1) = ANY (c.modules);
$$;
COMMENT ON FUNCTION tenancy.current_permissions() IS
'The permissions who acts holds in the current tenant, for modules the tenant (and company) has enabled: for a frontend to show what the user may do.';

CREATE FUNCTION tenancy.has_permission(permission text) RETURNS bool
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    granted text[];
BEGIN
    PERFORM tenancy._require_known_permissions(ARRAY[permission]);
    granted := tenancy.current_permissions();
    RETURN permission = ANY (granted) OR split_part(permission, ':', 1) || ':*' = ANY (granted);
END $$;
COMMENT ON FUNCTION tenancy.has_permission(text) IS
'Whether who acts holds a module permission ("<module>:<action>") in the current tenant, the module being enabled for it. For policies write (SELECT tenancy.has_permission(...)): one evaluation per statement. TN070 for a permission no module declares.';

CREATE FUNCTION tenancy.require_permission(permission text) RETURNS bool
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF (tenancy._context()).tenant IS NULL THEN
        RETURN false;  -- no tenant: the tenant policies refuse, as for any table
    END IF;
    IF NOT tenancy.has_permission(permission) THEN
        RAISE EXCEPTION 'permission "%" denied', permission USING ERRCODE = 'TN071',
            DETAIL = format('permission=%s', permission),
            HINT = coalesce('Tenant roles that grant it: ' || (
                SELECT string_agg(DISTINCT r.name, ', ') FROM tenancy.tenant_roles r
                WHERE (r.tenant_id = (tenancy._context()).tenant OR r.tenant_id IS NULL)
                  AND (permission = ANY (r.permissions) OR split_part(permission, ':', 1) || ':*' = ANY (r.permissions))),
                'No tenant role grants it.');
    END IF;
    RETURN true;
END $$;
COMMENT ON FUNCTION tenancy.require_permission(text) IS
'has_permission that refuses: TN071 naming the permission (DETAIL permission=<p>, HINT the roles that grant it); false without a tenant. For write policies: USING ((SELECT tenancy.require_permission(''hrms:write''))).';

REVOKE ALL ON tenancy.tenant_roles, tenancy.tenant_role_members FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenancy._context_set_user(text, text[]), tenancy._context_user(),
    tenancy._unknown_permissions(text[]), tenancy._require_known_permissions(text[]),
    tenancy._role_permissions(uuid, text[]), tenancy.define_tenant_role(uuid, text, text[], text),
    tenancy.drop_tenant_role(uuid, text), tenancy.grant_tenant_role(uuid, text, text),
    tenancy.revoke_tenant_role(uuid, text, text), tenancy.set_user(text, text[]), tenancy.current_tenant_roles(),
    tenancy.current_permissions(), tenancy.has_permission(text), tenancy.require_permission(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.set_user(text, text[]), tenancy.current_tenant_roles(), tenancy.current_permissions(),
    tenancy.has_permission(text), tenancy.require_permission(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.define_tenant_role(uuid, text, text[], text), tenancy.drop_tenant_role(uuid, text),
    tenancy.grant_tenant_role(uuid, text, text), tenancy.revoke_tenant_role(uuid, text, text) TO tenancy_admin;

-- cross-tenant aggregation (sql/analytics.sql): the tenancy_analytics role, the opt-out,
-- tenancy.aggregate and the platform views; everything here is new in 0.2.0
-- Cross-tenant aggregation: the platform operator's analytics. A member of
-- tenancy_analytics gets aggregates over all tenants (tenancy.aggregate) and the platform
-- views, never a tenant's rows. SQLSTATEs: TN060 unknown or unregistered table, TN061 unknown
-- column, TN062 bad measure, TN063 bad filter, TN064 bad grouping, TN065 bad min_group_size;
-- TN066 and TN067 (what may be revealed) are sql/analytics_privacy.sql's.

DO $$
BEGIN
    -- Roles are cluster-wide: another database may already have made it.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_analytics') THEN
        CREATE ROLE tenancy_analytics NOLOGIN;
    END IF;
END $$;
COMMENT ON ROLE tenancy_analytics IS 'Members may call tenancy.aggregate and read the platform views (module adoption, usage, tenants by plan): aggregates across tenants, never their rows.';

-- A table of its own rather than a column of tenancy.tenants: the opt-out has its own
-- history (when), and the tenants rows of an upgraded database stay exactly as they were.
CREATE TABLE tenancy.analytics_opt_outs (
    tenant_id    uuid PRIMARY KEY REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    opted_out_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenancy.analytics_opt_outs IS 'Tenants that opted out of cross-tenant analytics: tenancy.aggregate and tenancy.tenant_table_usage leave their rows out.';
SELECT pg_catalog.pg_extension_config_dump('tenancy.analytics_opt_outs', '');

CREATE FUNCTION tenancy.set_analytics_opt_out(tenant uuid, opt_out bool DEFAULT true) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    changed bool;
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    IF opt_out IS NULL THEN
        RAISE EXCEPTION 'opt_out must be true or false' USING ERRCODE = '22004';
    END IF;
    IF opt_out THEN
        INSERT INTO tenancy.analytics_opt_outs AS o (tenant_id) VALUES (tenant)
        ON CONFLICT ON CONSTRAINT analytics_opt_outs_pkey DO NOTHING;
    ELSE
        DELETE FROM tenancy.analytics_opt_outs o WHERE o.tenant_id = tenant;
    END IF;
    changed := FOUND;
    IF changed THEN
        PERFORM tenancy._record(tenant, CASE WHEN opt_out THEN 'tenant.analytics_opted_out' ELSE 'tenant.analytics_opted_in' END);
    END IF;
    RETURN changed;
END $$;
COMMENT ON FUNCTION tenancy.set_analytics_opt_out(uuid, bool) IS
'Opts a tenant out of (true) or back into (false) cross-tenant analytics and records it as an event; true when it changed something. TN001 unknown tenant.';

-- A column of a registered table, by its exact name; TN061 names the table's columns.
-- base is the type with domains resolved: what decides which aggregates apply.
CREATE FUNCTION tenancy._aggregate_column(tbl regclass, col text, used_as text, OUT col_type text, OUT base oid)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
BEGIN
    SELECT format_type(a.atttypid, a.atttypmod), a.atttypid INTO col_type, base
    FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" (%) does not exist in %', coalesce(col, 'NULL'), used_as, tbl
            USING ERRCODE = 'TN061',
                  DETAIL = format('columns: %s', (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
                                                  WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped));
    END IF;
    WHILE (SELECT t.typtype FROM pg_type t WHERE t.oid = base) = 'd' LOOP
        base := (SELECT t.typbasetype FROM pg_type t WHERE t.oid = base);
    END LOOP;
END $$;

-- The column's analytics class allows this use (group_by, filter, count, sum, avg, min, max),
-- or TN067 saying what the class allows.
CREATE FUNCTION tenancy._aggregate_require_class(tbl regclass, col text, use text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    class text;
    extremes bool;
    undeclared bool;
    what text;
BEGIN
    SELECT coalesce(max(a.class), 'private'), coalesce(bool_or(a.extremes), false), count(*) = 0
    INTO class, extremes, undeclared
    FROM tenancy.analytics_columns a WHERE a.tbl = tbl AND a.col = col;
    IF col = 'tenant_id' THEN  -- what per_tenant groups by: always a dimension, never declared
        class := 'dimension';
    END IF;
    IF (CASE use WHEN 'group_by' THEN class = 'dimension'
                 WHEN 'filter' THEN class = 'dimension'
                 WHEN 'count' THEN class IN ('dimension', 'measure')
                 WHEN 'sum' THEN class = 'measure'
                 WHEN 'avg' THEN class = 'measure'
                 ELSE extremes END) THEN
        RETURN;
    END IF;
    what := format('column "%s" of %s is %s%s', col, tbl, CASE class WHEN 'private' THEN class ELSE 'a ' || class END,
                   CASE WHEN undeclared THEN ' (no class was declared for it)' ELSE '' END);
    RAISE EXCEPTION '%', CASE use
            WHEN 'group_by' THEN format('cannot group by "%s": %s, and only dimensions are grouped on', col, what)
            WHEN 'filter' THEN format('cannot filter on "%s": %s, and only dimensions are filtered on', col, what)
            WHEN 'count' THEN format('cannot count "%s": %s, and private columns are not counted', col, what)
            WHEN 'sum' THEN format('cannot sum "%s": %s, and only measures are summed', col, what)
            WHEN 'avg' THEN format('cannot average "%s": %s, and only measures are averaged', col, what)
            ELSE format('cannot take %s("%s"): %s, and min and max return one row''s value, so only columns declared with extremes allow them',
                        use, col, what) END
        USING ERRCODE = 'TN067', DETAIL = format('column=%s class=%s extremes=%s', col, class, extremes),
              HINT = (SELECT format('%s: %s. tenancy.analytics_classes lists every column.', tbl,
                                    coalesce(string_agg(format('%s %s%s', a.col, a.class,
                                                               CASE WHEN a.extremes THEN ' (extremes)' ELSE '' END),
                                                        ', ' ORDER BY a.col), 'no dimension or measure is declared'))
                      FROM tenancy.analytics_columns a WHERE a.tbl = tbl AND a.class <> 'private');
END $$;

-- Only built-in types (and enums, whose comparison is built in): the query runs with the
-- extension owner's rights, so it must never call an operator or aggregate a user wrote.
CREATE FUNCTION tenancy._aggregate_has(aggregate text, base oid) RETURNS bool
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT FROM pg_type t, pg_proc p
        WHERE t.oid = base AND (t.typnamespace = 'pg_catalog'::regnamespace OR t.typtype = 'e')
          AND p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'a' AND p.proname = aggregate
          AND p.pronargs = 1
          AND (p.proargtypes[0] = base
               OR (p.proargtypes[0] = 'anyarray'::regtype AND t.typcategory = 'A')
               OR (p.proargtypes[0] = 'anyenum'::regtype AND t.typtype = 'e')));
$$;

-- Grouping, ordering and comparing need a default btree operator class (json, point... have none).
CREATE FUNCTION tenancy._aggregate_comparable(base oid) RETURNS bool
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT FROM pg_type t, pg_opclass o JOIN pg_am am ON am.oid = o.opcmethod
        WHERE t.oid = base AND (t.typnamespace = 'pg_catalog'::regnamespace OR t.typtype = 'e')
          AND am.amname = 'btree' AND o.opcdefault
          AND (o.opcintype = base
               OR (o.opcintype = 'anyarray'::regtype AND t.typcategory = 'A')
               OR (o.opcintype = 'anyenum'::regtype AND t.typtype = 'e')
               OR EXISTS (SELECT FROM pg_cast c WHERE c.castsource = base AND c.casttarget = o.opcintype
                                                  AND c.castmethod = 'b')));
$$;

-- A filter value: a JSON scalar that reads as the column's type; its text, which the query
-- gets as a parameter and casts. TN063 otherwise, naming the column and the value.
CREATE FUNCTION tenancy._aggregate_filter_value(col text, col_type text, val jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    txt text;
BEGIN
    IF jsonb_typeof(val) NOT IN ('string', 'number', 'boolean') THEN
        RAISE EXCEPTION 'bad filter on column "%": % is not a value', col, val USING ERRCODE = 'TN063',
            HINT = 'A filter is {"column": value}, {"column": [value, ...]}, {"column": null} or {"column": {"gte": value, "lt": value}}.';
    END IF;
    txt := val #>> '{}';
    BEGIN
        EXECUTE format('SELECT $1::%s', col_type) USING txt;
    EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION 'bad filter on column "%": % is not a valid %', col, val, col_type USING ERRCODE = 'TN063';
    END;
    RETURN txt;
END $$;

-- One query of three shapes, which give the same answers (bench/aggregation.sh times them):
-- - per_tenant: one level, GROUP BY tenant and groups, as a superuser would write it; each
--   group has one tenant.
-- - no filter, and a btree index that starts with tenant_id followed by the group_by
--   columns (NOT NULL, default operator classes; none for the overall aggregate), on a table
--   with many rows per (tenant, group): one level, GROUP BY the groups, and the tenants of
--   each group counted by a skip scan of that index, one descent per (tenant, group) pair.
--   Hashing every row by tenant costs more than the aggregates themselves.
-- - otherwise two levels: per tenant and group first (the partial aggregates), then per
--   group, which counts the tenants of each group. avg is sum / count of the partials: the
--   same numeric (or float8) division PostgreSQL's avg does.
-- Identifiers are checked against the catalog and quoted with %I; values are parameters.
CREATE FUNCTION tenancy.aggregate(
    tbl text,
    measures text[] DEFAULT '{count}',
    group_by text[] DEFAULT '{}',
    filters jsonb DEFAULT '{}',
    per_tenant bool DEFAULT false,
    min_group_size int DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, group_values jsonb, aggregates jsonb, row_count bigint, tenant_count bigint,
               suppressed_groups bigint, excluded_tenants bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    rel regclass;
    col record;
    measure text;
    parts text[];
    fn text;
    arg text;
    i int := 0;
    partials text[] := '{}';     -- two levels, level 1: partial aggregates per tenant and group
    totals text[] := '{}';       -- two levels, level 2: aN, the partials combined
    directs text[] := '{}';      -- one level: aN, the aggregates themselves
    agg_json text[] := '{}';     -- 'key', l2.aN pairs of the aggregates object
    keys1 text[] := '{}';        -- level 1: t.col AS gN
    group1 text[] := '{}';       -- level 1: t.col (GROUP BY)
    keys2 text[] := '{}';        -- level 2: l1.gN
    group_json text[] := '{}';   -- 'col', l2.gN pairs of the group_values object
    conds text[] := '{}';
    vals jsonb := '[]';          -- filter values, as text, referenced by position ($2->>n)
    fcol text;
    fval jsonb;
    op text;
    opval jsonb;
    sql_op text;
    opted_out uuid[];
    excluded bigint;
    filtered bool;
    where_sql text;
    skip_cols text[];            -- the skip-scanned index's leading columns: tenant_id, the groups
    est_rows float8;
    est_pairs float8;
    n_stats int;
    l2_sql text;
    min_rows int := tenancy.analytics_min_group_size();
BEGIN
    BEGIN
        rel := to_regclass(tbl);
    EXCEPTION WHEN syntax_error OR invalid_name OR feature_not_supported THEN
        rel := NULL;
    END;
    IF rel IS NULL OR NOT EXISTS (SELECT FROM tenancy.protected_tables p WHERE p.tbl = rel) THEN
        RAISE EXCEPTION 'table "%" is not a protected table', coalesce(tbl, 'NULL') USING ERRCODE = 'TN060',
            HINT = 'tenancy.aggregate reads the tables tenancy.protect registered (tenancy.protected_tables), by schema-qualified name.';
    END IF;

    -- The platform's k is a floor: a caller may raise it for one query, never lower it.
    IF min_group_size < 1 THEN
        RAISE EXCEPTION 'min_group_size must be at least 1, not %', min_group_size USING ERRCODE = 'TN065';
    END IF;
    IF min_group_size < min_rows THEN
        RAISE EXCEPTION 'min_group_size % is below the platform''s minimum group size %', min_group_size, min_rows
            USING ERRCODE = 'TN066', HINT = format('Ask for %s or more, or leave min_group_size out.', min_rows);
    END IF;
    min_rows := coalesce(min_group_size, min_rows);

    IF measures IS NULL OR cardinality(measures) NOT BETWEEN 1 AND 20 THEN
        RAISE EXCEPTION 'between 1 and 20 measures are needed, not %', coalesce(cardinality(measures), 0)
            USING ERRCODE = 'TN062', HINT = 'A measure is count, count(column), sum(column), avg(column), min(column) or max(column).';
    END IF;
    FOREACH measure IN ARRAY measures LOOP
        i := i + 1;
        parts := regexp_match(coalesce(measure, ''), '^\s*([A-Za-z]+)\s*(\((.*)\))?\s*$');
        fn := lower(parts[1]);
        arg := btrim(parts[3]);
        IF fn IS NULL OR fn NOT IN ('count', 'sum', 'avg', 'min', 'max') THEN
            RAISE EXCEPTION 'unknown measure "%"', coalesce(measure, 'NULL') USING ERRCODE = 'TN062',
                HINT = 'A measure is count, count(column), sum(column), avg(column), min(column) or max(column).';
        END IF;
        IF fn = 'count' AND (arg IS NULL OR arg = '*') THEN
            partials := partials || format('count(*) AS m%s', i);
            totals := totals || format('sum(l1.m%s)::bigint AS a%s', i, i);
            directs := directs || format('count(*) AS a%s', i);
            agg_json := agg_json || format('%L, l2.a%s', 'count', i);
            CONTINUE;
        END IF;
        IF arg IS NULL OR arg IN ('', '*') THEN
            RAISE EXCEPTION 'measure "%" needs a column: %(column)', measure, fn USING ERRCODE = 'TN062';
        END IF;
        col := tenancy._aggregate_column(rel, arg, format('measure %s', measure));
        PERFORM tenancy._aggregate_require_class(rel, arg, fn);
        IF fn IN ('sum', 'avg') AND NOT ((SELECT t.typcategory FROM pg_type t WHERE t.oid = col.base) = 'N'
                                         AND tenancy._aggregate_has(fn, col.base)) THEN
            RAISE EXCEPTION 'measure "%": % needs a numeric column, and "%" is %', measure, fn, arg, col.col_type
                USING ERRCODE = 'TN062';
        END IF;
        IF fn IN ('min', 'max') AND NOT tenancy._aggregate_has(fn, col.base) THEN
            RAISE EXCEPTION 'measure "%": column "%" of type % has no %', measure, arg, col.col_type, fn
                USING ERRCODE = 'TN062';
        END IF;
        directs := directs || format('%s(t.%I) AS a%s', fn, arg, i);
        agg_json := agg_json || format('%L, l2.a%s', format('%s(%s)', fn, arg), i);
        CASE fn
        WHEN 'count' THEN
            partials := partials || format('count(t.%I) AS m%s', arg, i);
            totals := totals || format('sum(l1.m%s)::bigint AS a%s', i, i);
        WHEN 'avg' THEN
            partials := partials || format('sum(t.%I%s) AS m%s, count(t.%I) AS c%s', arg,
                                           CASE WHEN col.base = 'real'::regtype THEN '::float8' ELSE '' END, i, arg, i);
            totals := totals || format('sum(l1.m%s) / nullif(sum(l1.c%s), 0) AS a%s', i, i, i);
        ELSE
            partials := partials || format('%s(t.%I) AS m%s', fn, arg, i);
            totals := totals || format('%s(l1.m%s) AS a%s', fn, i, i);  -- sum of sums, min of mins...
        END CASE;
    END LOOP;

    group_by := coalesce(group_by, '{}');
    IF cardinality(group_by) > 4 THEN
        RAISE EXCEPTION 'at most 4 group_by columns, not %', cardinality(group_by) USING ERRCODE = 'TN064';
    END IF;
    FOR i IN 1 .. cardinality(group_by) LOOP
        col := tenancy._aggregate_column(rel, group_by[i], 'group_by');
        PERFORM tenancy._aggregate_require_class(rel, group_by[i], 'group_by');
        IF group_by[i] = ANY (group_by[1:i - 1]) THEN
            RAISE EXCEPTION 'group_by names column "%" twice', group_by[i] USING ERRCODE = 'TN064';
        END IF;
        IF NOT tenancy._aggregate_comparable(col.base) THEN
            RAISE EXCEPTION 'cannot group by column "%" of type %', group_by[i], col.col_type USING ERRCODE = 'TN064';
        END IF;
        keys1 := keys1 || format('t.%I AS g%s', group_by[i], i);
        group1 := group1 || format('t.%I', group_by[i]);
        keys2 := keys2 || format('l1.g%s', i);
        group_json := group_json || format('%L, l2.g%s', group_by[i], i);
    END LOOP;

    filters := coalesce(filters, '{}');
    IF jsonb_typeof(filters) <> 'object' THEN
        RAISE EXCEPTION 'filters must be a JSON object of column: value, not %', filters USING ERRCODE = 'TN063';
    END IF;
    FOR fcol, fval IN SELECT e.key, e.value FROM jsonb_each(filters) e ORDER BY e.key LOOP
        col := tenancy._aggregate_column(rel, fcol, 'filter');
        PERFORM tenancy._aggregate_require_class(rel, fcol, 'filter');
        IF NOT tenancy._aggregate_comparable(col.base) OR col.base IN ('json'::regtype, 'jsonb'::regtype) THEN
            RAISE EXCEPTION 'cannot filter on column "%" of type %', fcol, col.col_type USING ERRCODE = 'TN063';
        END IF;
        CASE jsonb_typeof(fval)
        WHEN 'null' THEN
            conds := conds || format('t.%I IS NULL', fcol);
        WHEN 'array' THEN
            IF jsonb_array_length(fval) = 0 THEN
                RAISE EXCEPTION 'bad filter on column "%": an empty list matches nothing', fcol USING ERRCODE = 'TN063';
            END IF;
            conds := conds || format('t.%I = ANY (ARRAY(SELECT jsonb_array_elements_text($2->%s))::%s[])',
                                     fcol, jsonb_array_length(vals), col.col_type);
            vals := vals || jsonb_build_array(
                (SELECT jsonb_agg(tenancy._aggregate_filter_value(fcol, col.col_type, v)) FROM jsonb_array_elements(fval) v));
        WHEN 'object' THEN
            IF fval = '{}' THEN
                RAISE EXCEPTION 'bad filter on column "%": no comparison', fcol USING ERRCODE = 'TN063';
            END IF;
            FOR op, opval IN SELECT e.key, e.value FROM jsonb_each(fval) e ORDER BY e.key LOOP
                sql_op := CASE op WHEN 'eq' THEN '=' WHEN 'neq' THEN '<>' WHEN 'lt' THEN '<' WHEN 'lte' THEN '<='
                                  WHEN 'gt' THEN '>' WHEN 'gte' THEN '>=' END;
                IF sql_op IS NULL THEN
                    RAISE EXCEPTION 'bad filter on column "%": unknown comparison "%"', fcol, op USING ERRCODE = 'TN063',
                        HINT = 'Comparisons: eq, neq, lt, lte, gt, gte.';
                END IF;
                conds := conds || format('t.%I %s ($2->>%s)::%s', fcol, sql_op, jsonb_array_length(vals), col.col_type);
                vals := vals || to_jsonb(tenancy._aggregate_filter_value(fcol, col.col_type, opval));
            END LOOP;
        ELSE
            conds := conds || format('t.%I = ($2->>%s)::%s', fcol, jsonb_array_length(vals), col.col_type);
            vals := vals || to_jsonb(tenancy._aggregate_filter_value(fcol, col.col_type, fval));
        END CASE;
    END LOOP;

    -- Opted-out tenants' rows are never read; how many tenants opted out is reported. No
    -- condition when nobody opted out (an empty <> ALL still costs every row a call); else the
    -- array is a constant of the plan, which PostgreSQL looks up in a hash table.
    SELECT coalesce(array_agg(o.tenant_id), '{}'), count(*) INTO opted_out, excluded FROM tenancy.analytics_opt_outs o;
    filtered := cardinality(conds) > 0;
    IF excluded > 0 THEN
        conds := 'NOT (t.tenant_id = ANY ($1))'::text || conds;
    END IF;
    where_sql := CASE WHEN cardinality(conds) > 0 THEN ' WHERE ' || array_to_string(conds, ' AND ') ELSE '' END;

    -- (Not on Citus, which runs no recursive CTE over a distributed table: there the grouped
    -- path below goes to the workers, grouped by tenant, the distribution column.)
    IF NOT per_tenant AND NOT filtered AND NOT tenancy._citus() THEN
        -- An index to skip-scan: btree, whole, valid, leading with tenant_id then exactly the
        -- group_by columns in any order, each NOT NULL (a NULL would end the row comparison),
        -- ascending, with its default operator class and its own collation (so that the
        -- index's order is the one of the row comparison and of GROUP BY's equality).
        SELECT ix.cols INTO skip_cols
        FROM pg_index x
        JOIN pg_class ic ON ic.oid = x.indexrelid
        JOIN pg_am am ON am.oid = ic.relam
        CROSS JOIN LATERAL (
            SELECT array_agg(a.attname::text ORDER BY k.n) AS cols,
                   bool_and(a.attnotnull AND o.opcdefault AND x.indcollation[k.n] = a.attcollation
                            AND x.indoption[k.n] = 0) AS fit
            FROM generate_series(0, cardinality(group_by)) k (n)
            JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k.n]
            JOIN pg_opclass o ON o.oid = x.indclass[k.n]) ix
        WHERE x.indrelid = rel AND am.amname = 'btree' AND x.indisvalid AND x.indpred IS NULL
          AND x.indnkeyatts > cardinality(group_by)
          AND ix.fit AND cardinality(ix.cols) = cardinality(group_by) + 1
          AND ix.cols[1] = 'tenant_id' AND ix.cols[2:] @> group_by
        ORDER BY ic.relpages, x.indexrelid
        LIMIT 1;
        -- Worth it when the table has many rows per (tenant, group) pair: a descent costs what
        -- hashing some 30 rows does, so at least 50, by the planner's statistics (none, no skip).
        IF skip_cols IS NOT NULL THEN
            SELECT c.reltuples INTO est_rows FROM pg_class c WHERE c.oid = rel AND c.relkind = 'r';
            SELECT count(*), exp(sum(ln(greatest(CASE WHEN s.stadistinct < 0 THEN -s.stadistinct * est_rows
                                                      ELSE s.stadistinct END, 1))))
            INTO n_stats, est_pairs
            FROM pg_statistic s JOIN pg_attribute a ON a.attrelid = s.starelid AND a.attnum = s.staattnum
            WHERE s.starelid = rel AND NOT s.stainherit AND s.stadistinct <> 0 AND a.attname = ANY (skip_cols);
            IF est_rows IS NULL OR est_rows < 0 OR n_stats <> cardinality(skip_cols)
               OR est_rows < 50 * least(est_pairs, est_rows) THEN
                skip_cols := NULL;
            END IF;
        END IF;
    END IF;

    IF per_tenant THEN
        l2_sql := format(
            $sql$
            SELECT t.tenant_id AS tid%1$s, count(*) AS row_count, 1::bigint AS tenant_count, %2$s
            FROM %3$s t%4$s
            GROUP BY t.tenant_id%5$s
            $sql$,
            (SELECT string_agg(', ' || k, '') FROM unnest(keys1) k),
            array_to_string(directs, ', '),
            rel,
            where_sql,
            (SELECT string_agg(', ' || g, '') FROM unnest(group1) g));
    ELSIF skip_cols IS NOT NULL THEN
        -- pairs: each (tenant, groups) present once, in the index's order (gN: group_by[N]).
        l2_sql := format(
            $sql$
            SELECT NULL::uuid AS tid%1$s, a.row_count, c.tenant_count%2$s
            FROM (SELECT %3$scount(*) AS row_count, %4$s
                  FROM %5$s t%6$s%7$s) a
            JOIN counts c ON %8$s
            $sql$,
            (SELECT string_agg(', a.g' || n, '' ORDER BY n) FROM generate_series(1, cardinality(group_by)) n),
            (SELECT string_agg(', a.a' || n, '' ORDER BY n) FROM generate_series(1, cardinality(measures)) n),
            (SELECT string_agg(k || ', ', '') FROM unnest(keys1) k),
            array_to_string(directs, ', '),
            rel,
            where_sql,
            CASE WHEN cardinality(group1) > 0 THEN ' GROUP BY ' || array_to_string(group1, ', ')
                 ELSE ' HAVING count(*) > 0' END,
            coalesce((SELECT string_agg(format('c.g%1$s = a.g%1$s', n), ' AND ' ORDER BY n)
                      FROM generate_series(1, cardinality(group_by)) n), 'true'));
        l2_sql := format(
            $sql$RECURSIVE pairs AS (
                (SELECT %1$s FROM %2$s t ORDER BY %3$s LIMIT 1)
                UNION ALL
                SELECT n.* FROM pairs p CROSS JOIN LATERAL (
                    SELECT %3$s FROM %2$s t WHERE (%3$s) > (%4$s) ORDER BY %3$s LIMIT 1) n
            ), counts AS (
                SELECT %5$scount(*) AS tenant_count FROM pairs p%6$s%7$s
            ), l2 AS (%8$s)
            $sql$,
            (SELECT string_agg(format('t.%I AS %s', c, CASE WHEN n = 1 THEN 'tid' ELSE 'g' || array_position(group_by, c) END),
                               ', ' ORDER BY n)
             FROM unnest(skip_cols) WITH ORDINALITY u (c, n)),
            rel,
            (SELECT string_agg(format('t.%I', c), ', ' ORDER BY n) FROM unnest(skip_cols) WITH ORDINALITY u (c, n)),
            (SELECT string_agg(CASE WHEN n = 1 THEN 'p.tid' ELSE 'p.g' || array_position(group_by, c) END, ', ' ORDER BY n)
             FROM unnest(skip_cols) WITH ORDINALITY u (c, n)),
            (SELECT string_agg('p.g' || n || ', ', '' ORDER BY n) FROM generate_series(1, cardinality(group_by)) n),
            CASE WHEN excluded > 0 THEN ' WHERE NOT (p.tid = ANY ($1))' ELSE '' END,
            CASE WHEN cardinality(group_by) > 0
                 THEN ' GROUP BY ' || (SELECT string_agg('p.g' || n, ', ' ORDER BY n) FROM generate_series(1, cardinality(group_by)) n)
                 ELSE '' END,
            l2_sql);
    ELSE
        l2_sql := format(
            $sql$
            SELECT NULL::uuid AS tid%1$s, sum(l1.n)::bigint AS row_count, count(*) AS tenant_count, %2$s
            FROM l1%3$s
            $sql$,
            (SELECT string_agg(', ' || k, '') FROM unnest(keys2) k),
            array_to_string(totals, ', '),
            CASE WHEN cardinality(keys2) > 0 THEN ' GROUP BY ' || array_to_string(keys2, ', ') ELSE '' END);
        l2_sql := format(
            $sql$l1 AS (
                SELECT t.tenant_id AS tid%1$s, count(*) AS n, %2$s
                FROM %3$s t%4$s
                GROUP BY t.tenant_id%5$s
            ), l2 AS (%6$s)
            $sql$,
            (SELECT string_agg(', ' || k, '') FROM unnest(keys1) k),
            array_to_string(partials, ', '),
            rel,
            where_sql,
            (SELECT string_agg(', ' || g, '') FROM unnest(group1) g),
            l2_sql);
    END IF;
    IF per_tenant THEN
        l2_sql := format('l2 AS (%s)', l2_sql);
    END IF;

    RETURN QUERY EXECUTE format(
        $sql$
        WITH %1$s
        SELECT l2.tid, jsonb_build_object(%2$s), jsonb_build_object(%3$s), l2.row_count, l2.tenant_count,
               (SELECT count(*) FROM l2 s WHERE s.row_count < $3), $4
        FROM l2 WHERE l2.row_count >= $3
        ORDER BY l2.tid%4$s
        $sql$,
        l2_sql,
        array_to_string(group_json, ', '),
        array_to_string(agg_json, ', '),
        (SELECT string_agg(', l2.g' || n, '' ORDER BY n) FROM generate_series(1, cardinality(group_by)) n))
    USING opted_out, vals, min_rows, excluded;
END $$;
COMMENT ON FUNCTION tenancy.aggregate(text, text[], text[], jsonb, bool, int) IS
'Aggregates one protected table across all tenants: measures (count, count(col), sum(col), avg(col), min(col), max(col)) per group of up to 4 group_by columns, optionally per tenant, with equality/range/list filters, each column within its analytics class (group and filter: dimensions; count(col): dimensions and measures; sum, avg: measures; min, max: columns declared with extremes); groups of fewer rows than the platform''s minimum group size (or a larger min_group_size) are suppressed and counted in suppressed_groups; opted-out tenants are left out and counted in excluded_tenants. One row per group: tenant_id (per_tenant), group_values and aggregates as JSON objects, row_count, tenant_count. TN060 table, TN061 column, TN062 measure, TN063 filter, TN064 group_by, TN065/TN066 min_group_size, TN067 class.';

-- Rows per protected table per tenant: dynamic SQL over the registry, so a function; the
-- view below is what callers read. Opted-out tenants' rows are not counted (or listed).
CREATE FUNCTION tenancy._table_usage()
RETURNS TABLE (tenant_id uuid, slug text, table_name text, module text, row_count bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    p record;
    opted_out uuid[] := ARRAY(SELECT o.tenant_id FROM tenancy.analytics_opt_outs o);
BEGIN
    FOR p IN SELECT pt.tbl, pt.module FROM tenancy.protected_tables pt ORDER BY pt.tbl::text LOOP
        RETURN QUERY EXECUTE format(
            'SELECT tn.id, tn.slug, $2, $3, coalesce(c.n, 0)
             FROM tenancy.tenants tn
             LEFT JOIN (SELECT t.tenant_id, count(*) AS n FROM %s t WHERE NOT (t.tenant_id = ANY ($1)) GROUP BY 1) c
                    ON c.tenant_id = tn.id
             WHERE NOT (tn.id = ANY ($1))
             ORDER BY tn.slug', p.tbl)
        USING opted_out, p.tbl::text, p.module;
    END LOOP;
END $$;

-- The views read the catalog with their owner's (the extension owner's) rights: that is the
-- point, since tenancy_analytics is granted no catalog table; each shows counts only. They read
-- through definer functions rather than being definer views themselves: on Citus a query over a
-- reference table runs on its shards as the querying role, whose own rights are checked there.
CREATE FUNCTION tenancy._module_adoption()
RETURNS TABLE (module text, name text, is_core bool, enabled_tenants bigint, total_tenants bigint, adoption numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT m.key, m.name, m.is_core,
           count(t.id) FILTER (WHERE m.is_core OR tm.enabled),
           count(t.id),
           round(count(t.id) FILTER (WHERE m.is_core OR tm.enabled)::numeric / nullif(count(t.id), 0), 4)
    FROM tenancy.modules m
    LEFT JOIN tenancy.tenants t ON true
    LEFT JOIN tenancy.tenant_modules tm ON tm.tenant_id = t.id AND tm.module = m.key
    GROUP BY m.key, m.name, m.is_core;
$$;
CREATE VIEW tenancy.module_adoption AS SELECT * FROM tenancy._module_adoption();
COMMENT ON VIEW tenancy.module_adoption IS
'Per installed module: how many tenants (suspended ones included) have it enabled at tenant level (core modules: all), of how many, and the share. Reads the catalog with the owner''s rights, deliberately.';

CREATE VIEW tenancy.tenant_table_usage AS SELECT * FROM tenancy._table_usage();
COMMENT ON VIEW tenancy.tenant_table_usage IS
'Rows each tenant owns in each protected table (0 included); tenants that opted out of analytics are not listed. Counts every registered table when read: not for every request. Reads with the owner''s rights, deliberately.';

CREATE FUNCTION tenancy._tenant_daily_events() RETURNS TABLE (tenant_id uuid, slug text, day date, events bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.tenant_id, t.slug, (e.at AT TIME ZONE 'UTC')::date, count(*)
    FROM tenancy.events e LEFT JOIN tenancy.tenants t ON t.id = e.tenant_id
    GROUP BY e.tenant_id, t.slug, (e.at AT TIME ZONE 'UTC')::date;
$$;
CREATE VIEW tenancy.tenant_daily_events AS SELECT * FROM tenancy._tenant_daily_events();
COMMENT ON VIEW tenancy.tenant_daily_events IS
'Events of tenancy.events per tenant per UTC day (tenant_id NULL: platform events; slug NULL: a deleted tenant). The platform''s own log, so opted-out tenants are included. Reads with the owner''s rights, deliberately.';

CREATE FUNCTION tenancy._tenants_by_plan()
RETURNS TABLE (plan text, plan_name text, rank int, status text, tenants bigint, analytics_opted_out bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.key, p.name, p.rank, s.status, count(t.id), count(o.tenant_id)
    FROM tenancy.plans p
    CROSS JOIN (VALUES ('active'), ('suspended')) s (status)
    LEFT JOIN tenancy.tenants t ON t.plan = p.key AND t.status = s.status
    LEFT JOIN tenancy.analytics_opt_outs o ON o.tenant_id = t.id
    GROUP BY p.key, p.name, p.rank, s.status;
$$;
CREATE VIEW tenancy.tenants_by_plan AS SELECT * FROM tenancy._tenants_by_plan();
COMMENT ON VIEW tenancy.tenants_by_plan IS
'Tenants per plan and status (zeros included), and how many of them opted out of analytics. Reads with the owner''s rights, deliberately.';

-- Who may call what: the same statements in the upgrade script, so both installs end with
-- the same ACLs whatever privileges.sql does after this file.
REVOKE ALL ON tenancy.analytics_opt_outs FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenancy.set_analytics_opt_out(uuid, bool), tenancy._aggregate_column(regclass, text, text),
    tenancy._aggregate_has(text, oid), tenancy._aggregate_comparable(oid), tenancy._aggregate_filter_value(text, text, jsonb),
    tenancy._aggregate_require_class(regclass, text, text),
    tenancy.aggregate(text, text[], text[], jsonb, bool, int), tenancy._table_usage(), tenancy._module_adoption(),
    tenancy._tenant_daily_events(), tenancy._tenants_by_plan() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.aggregate(text, text[], text[], jsonb, bool, int), tenancy._table_usage(),
    tenancy._module_adoption(), tenancy._tenant_daily_events(), tenancy._tenants_by_plan()
    TO tenancy_analytics, tenancy_admin;
GRANT EXECUTE ON FUNCTION tenancy.set_analytics_opt_out(uuid, bool) TO tenancy_admin;
REVOKE ALL ON tenancy.module_adoption, tenancy.tenant_table_usage, tenancy.tenant_daily_events, tenancy.tenants_by_plan
    FROM PUBLIC;
GRANT SELECT ON tenancy.module_adoption, tenancy.tenant_table_usage, tenancy.tenant_daily_events, tenancy.tenants_by_plan
    TO tenancy_analytics, tenancy_admin;
-- end of cross-tenant aggregation (sql/analytics.sql)

-- what aggregation may reveal (sql/analytics_privacy.sql): the minimum group size and the
-- column classes; everything here is new in 0.2.0
-- What cross-tenant aggregation may reveal (sql/analytics.sql enforces it): a platform-wide
-- minimum group size k, and a class for every column of a protected table. dimension: may be
-- grouped and filtered on; measure: may be counted, summed and averaged; private: none of
-- those. A column nobody declared is private (fail closed), and min/max, which return one
-- row's value, need `extremes` on the column. SQLSTATEs: TN066 a smaller group than the
-- platform's k, TN067 a column used beyond its class, TN068 an invalid declaration.

-- At most one row; none means the default k (5). No row is installed, so a dump's row
-- restores without meeting one the extension made.
CREATE TABLE tenancy.analytics_policy (
    singleton      bool PRIMARY KEY DEFAULT true CHECK (singleton),
    min_group_size int NOT NULL CHECK (min_group_size >= 1),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenancy.analytics_policy IS 'The platform''s analytics policy (one row, or none for the defaults): the minimum number of rows a group of tenancy.aggregate must have.';
SELECT pg_catalog.pg_extension_config_dump('tenancy.analytics_policy', '');

CREATE FUNCTION tenancy.analytics_min_group_size() RETURNS int
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT p.min_group_size FROM tenancy.analytics_policy p), 5);
$$;
COMMENT ON FUNCTION tenancy.analytics_min_group_size() IS
'The platform''s minimum group size k for tenancy.aggregate (5 unless tenancy.set_analytics_policy changed it): groups of fewer rows are suppressed, and a caller may ask for more, never for less.';

CREATE FUNCTION tenancy.set_analytics_policy(min_group_size int) RETURNS int
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    was int := tenancy.analytics_min_group_size();
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    IF min_group_size IS NULL OR min_group_size < 1 THEN
        RAISE EXCEPTION 'min_group_size must be at least 1, not %', coalesce(min_group_size::text, 'NULL')
            USING ERRCODE = 'TN065';
    END IF;
    INSERT INTO tenancy.analytics_policy AS p (min_group_size) VALUES (min_group_size)
    ON CONFLICT ON CONSTRAINT analytics_policy_pkey DO UPDATE
        SET min_group_size = excluded.min_group_size, updated_at = excluded.updated_at;
    IF was <> min_group_size THEN
        PERFORM tenancy._record(NULL, 'analytics.policy_set',
                                jsonb_build_object('min_group_size', min_group_size, 'was', was));
    END IF;
    RETURN was;
END $$;
COMMENT ON FUNCTION tenancy.set_analytics_policy(int) IS
'Sets the platform''s minimum group size k for tenancy.aggregate (tenancy_admin) and records it as an event (analytics.policy_set); returns the previous k. TN065 below 1.';

-- Declarations, per protected table: a row per declared column. A table's declarations are
-- replaced as a whole by tenancy.protect(..., analytics => ...).
CREATE TABLE tenancy.analytics_columns (
    tbl      regclass NOT NULL,
    col      name NOT NULL,
    class    text NOT NULL CHECK (class IN ('dimension', 'measure', 'private')),
    extremes bool NOT NULL DEFAULT false,
    reason   text,
    PRIMARY KEY (tbl, col),
    CHECK (NOT (extremes AND class = 'private'))
);
COMMENT ON TABLE tenancy.analytics_columns IS 'The analytics class of each declared column of a protected table (undeclared columns are private), whether min/max may return its values (extremes), and why, where a reason was needed.';
SELECT pg_catalog.pg_extension_config_dump('tenancy.analytics_columns', '');

-- Why a column would identify a row or a person, or NULL: such a column is a dimension only
-- with a stated reason. Keys, uuids and names that say identifier or contact detail; free
-- text cannot be recognised, which is why undeclared columns are private.
CREATE FUNCTION tenancy._analytics_identifying(tbl regclass, col name) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                     WHERE i.indrelid = tbl AND i.indisunique AND a.attname = col) THEN 'it is part of a unique key'
        WHEN EXISTS (SELECT FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                     WHERE c.conrelid = tbl AND c.contype = 'f' AND a.attname = col) THEN 'it is a foreign key'
        WHEN (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = col) = 'uuid'::regtype
            THEN 'it is a uuid'
        WHEN col ~* '(^|_)(id|key|email|phone|mobile|fax|name|address|ip|token|password|ssn|iban|isbn)$'
            THEN 'its name says identifier or contact detail'
    END;
$$;

CREATE FUNCTION tenancy._declare_analytics_columns(tbl regclass, classes jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    col text;
    spec jsonb;
    class text;
    why text;
    problems text[] := '{}';
    normalized jsonb := '{}';    -- column: {"class": ..., "extremes": ..., "reason": ...}
    declared jsonb;
    was jsonb;
BEGIN
    PERFORM tenancy._require_protect_rights(tbl);
    IF jsonb_typeof(classes) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'analytics classes of % must be a JSON object of column: class', tbl USING ERRCODE = 'TN068',
            HINT = 'e.g. {"job_title": "dimension", "salary": "measure", "hired_on": {"class": "measure", "extremes": true}, "email": "private"}';
    END IF;
    FOR col, spec IN SELECT e.key, e.value FROM jsonb_each(classes) e ORDER BY e.key LOOP
        IF jsonb_typeof(spec) = 'string' THEN
            spec := jsonb_build_object('class', spec);
        END IF;
        normalized := normalized || jsonb_build_object(col, spec);
        class := spec ->> 'class';
        IF jsonb_typeof(spec) <> 'object' OR class IS NULL THEN
            problems := problems || format('%s: a class ("dimension", "measure", "private") or {"class": ..., "extremes": ..., "reason": ...}', col);
            CONTINUE;
        END IF;
        IF EXISTS (SELECT FROM jsonb_object_keys(spec) k WHERE k NOT IN ('class', 'extremes', 'reason')) THEN
            problems := problems || format('%s: unknown key (class, extremes, reason)', col);
        END IF;
        IF class NOT IN ('dimension', 'measure', 'private') THEN
            problems := problems || format('%s: unknown class "%s" (dimension, measure, private)', col, class);
        END IF;
        IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
            problems := problems || format('%s: no such column', col);
            CONTINUE;
        END IF;
        IF col = 'tenant_id' THEN
            problems := problems || 'tenant_id: always a dimension (per_tenant groups by it), not declared'::text;
        END IF;
        IF spec ? 'extremes' AND jsonb_typeof(spec -> 'extremes') <> 'boolean' THEN
            problems := problems || format('%s: extremes must be true or false', col);
        ELSIF class = 'private' AND (spec -> 'extremes') = 'true' THEN
            problems := problems || format('%s: a private column has no extremes', col);
        END IF;
        IF spec ? 'reason' AND (jsonb_typeof(spec -> 'reason') <> 'string' OR btrim(spec ->> 'reason') = '') THEN
            problems := problems || format('%s: reason must be a non-empty string', col);
        END IF;
        why := tenancy._analytics_identifying(tbl, col);
        IF class = 'dimension' AND why IS NOT NULL AND NOT spec ? 'reason' THEN
            problems := problems || format('%s: a dimension needs a reason, since %s', col, why);
        END IF;
    END LOOP;
    IF cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'invalid analytics classes for %', tbl USING ERRCODE = 'TN068',
            DETAIL = array_to_string(problems, E'\n');
    END IF;

    -- Replaced as a whole; recorded only when that changed something.
    WITH gone AS (DELETE FROM tenancy.analytics_columns a WHERE a.tbl = tbl RETURNING a.col, a.class, a.extremes, a.reason)
    SELECT coalesce(jsonb_object_agg(g.col, jsonb_build_array(g.class, g.extremes, g.reason)), '{}') INTO was FROM gone g;
    WITH made AS (
        INSERT INTO tenancy.analytics_columns AS a (tbl, col, class, extremes, reason)
        SELECT tbl, e.key, e.value ->> 'class', coalesce((e.value ->> 'extremes')::bool, false), e.value ->> 'reason'
        FROM jsonb_each(normalized) e
        RETURNING a.col, a.class, a.extremes, a.reason)
    SELECT coalesce(jsonb_object_agg(m.col, jsonb_build_array(m.class, m.extremes, m.reason)), '{}') INTO declared FROM made m;
    IF declared IS DISTINCT FROM was THEN
        PERFORM tenancy._record(NULL, 'table.analytics_classified', jsonb_build_object('table', tbl::text, 'classes', classes));
    END IF;
END $$;

-- A dropped table or column takes its declarations along: a column added later under the
-- same name starts undeclared (private), whatever the old one was.
CREATE FUNCTION tenancy._forget_dropped_declarations() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM tenancy.analytics_columns d
    USING pg_event_trigger_dropped_objects() o
    WHERE o.classid = 'pg_class'::regclass AND d.tbl::oid = o.objid
      AND (o.objsubid = 0 OR (o.object_type = 'table column' AND d.col = o.address_names[3]));
END $$;
CREATE EVENT TRIGGER tenancy_forget_dropped_declarations ON sql_drop
    WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED', 'ALTER TABLE')
    EXECUTE FUNCTION tenancy._forget_dropped_declarations();

-- Every column of every protected table with its class: what an analyst may group, filter
-- and aggregate. Undeclared columns show as private, with declared false.
CREATE VIEW tenancy.analytics_classes AS
SELECT p.tbl::text AS table_name, a.attname::text AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type,
       coalesce(d.class, 'private') AS class, coalesce(d.extremes, false) AS extremes, d.reason, d.class IS NOT NULL AS declared
FROM tenancy.protected_tables p
JOIN pg_attribute a ON a.attrelid = p.tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'tenant_id'
LEFT JOIN tenancy.analytics_columns d ON d.tbl = p.tbl AND d.col = a.attname
ORDER BY p.tbl::text, a.attnum;
COMMENT ON VIEW tenancy.analytics_classes IS
'Each column of each protected table (tenant_id aside) with its analytics class: dimension (group and filter), measure (count, sum, avg; min/max where extremes), private (none; the class of every undeclared column, declared false). Reads the declarations with the owner''s rights, deliberately.';

-- Who may call what: the same statements in the upgrade script.
REVOKE ALL ON tenancy.analytics_policy, tenancy.analytics_columns, tenancy.analytics_classes FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenancy.analytics_min_group_size(), tenancy.set_analytics_policy(int),
    tenancy._analytics_identifying(regclass, name), tenancy._forget_dropped_declarations(),
    tenancy._declare_analytics_columns(regclass, jsonb) FROM PUBLIC;
-- protect runs as its caller and declares through this definer function, which checks rights.
GRANT EXECUTE ON FUNCTION tenancy._declare_analytics_columns(regclass, jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.analytics_min_group_size() TO tenancy_analytics, tenancy_admin;
GRANT EXECUTE ON FUNCTION tenancy.set_analytics_policy(int) TO tenancy_admin;
GRANT SELECT ON tenancy.analytics_classes TO tenancy_analytics, tenancy_admin;
-- end of what aggregation may reveal (sql/analytics_privacy.sql)

-- the event log of opted-in writes (sql/event_log.sql)
-- Writes to a protected table that opts in (record_writes) are appended to its tenant's event
-- log, with the row's key and who acted; the log itself is append-only (catalog.sql).

CREATE FUNCTION tenancy._record_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    written jsonb;
    key jsonb;
BEGIN
    -- A superuser restoring a tenant (tenancy import) brings its history along: not new writes.
    -- Anyone may set the setting; only a superuser's counts.
    IF current_setting('tenancy.restoring', true) = 'on'
       AND (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = tenancy._outer_role()) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        written := to_jsonb(OLD);
    ELSE
        written := to_jsonb(NEW);
    END IF;
    SELECT jsonb_object_agg(k, written -> k) INTO key FROM unnest(TG_ARGV) k;
    PERFORM tenancy._record((written ->> 'tenant_id')::uuid, 'row.' || lower(TG_OP),
        jsonb_build_object('table', format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'key', key,
                           'user', (SELECT c.user_id FROM tenancy._context_user() c)));
    RETURN NULL;
END $$;

CREATE FUNCTION tenancy.record_writes(tbl regclass, enabled bool DEFAULT true) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    key_columns text;
BEGIN
    PERFORM tenancy._require_protect_rights(tbl);
    -- On Citus the trigger would run on the workers, each writing its own copy of the log.
    IF tenancy._citus() THEN
        RAISE WARNING 'writes of % are not recorded: the event log of writes is not kept on Citus yet', tbl
            USING HINT = 'README, Scale-out on Citus: Not yet on Citus.';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM tenancy.protected_tables p WHERE p.tbl = record_writes.tbl) THEN
        RAISE EXCEPTION '% is not protected', tbl USING ERRCODE = 'TN030',
            HINT = 'Only a protected table''s writes have a tenant to be recorded for.';
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_record_writes ON %s', tbl);
    IF enabled THEN
        SELECT string_agg(quote_literal(a.attname), ', ' ORDER BY array_position(i.indkey::int2[], a.attnum))
        INTO key_columns
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = tbl AND i.indisprimary;
        EXECUTE format('CREATE TRIGGER tenancy_record_writes AFTER INSERT OR UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION tenancy._record_write(%s)', tbl, coalesce(key_columns, ''));
    END IF;
    PERFORM tenancy._record(NULL, CASE WHEN enabled THEN 'table.writes_recorded' ELSE 'table.writes_not_recorded' END,
                            jsonb_build_object('table', tbl::text));
END $$;
COMMENT ON FUNCTION tenancy.record_writes(regclass, bool) IS
'Opts a protected table in (or out, with false) to the event log: every insert, update and delete appends row.insert / row.update / row.delete to the row''s tenant''s events, with the table, the primary key and the user set_user named. Same rights as protect; TN030 for a table that is not protected.';
REVOKE EXECUTE ON FUNCTION tenancy._record_write(), tenancy.record_writes(regclass, bool) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.record_writes(regclass, bool) TO PUBLIC;

-- rows per protected table of one tenant, for its health (sql/tenants.sql)
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
REVOKE EXECUTE ON FUNCTION tenancy.tenant_row_counts(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.tenant_row_counts(uuid) TO tenancy_admin;

-- disable_module refuses a module that is not enabled (TN025); TN010 says whether a plan
-- upgrade would help (sql/modules.sql)
CREATE OR REPLACE FUNCTION tenancy._module_not_enabled(module text, tenant uuid, company uuid) RETURNS void
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

CREATE OR REPLACE FUNCTION tenancy.disable_module(tenant uuid, module text) RETURNS void
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

-- a tenant is deleted in two steps: scheduled (suspended, restorable), then erased
-- (sql/tenants.sql); delete_tenant gets a grace period, so a new signature
DROP FUNCTION tenancy.delete_tenant(uuid);
CREATE OR REPLACE FUNCTION tenancy.activate_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._require_not_scheduled(tenant);
    PERFORM tenancy._set_status(tenant, 'active');
END $$;
COMMENT ON FUNCTION tenancy.activate_tenant(uuid) IS
'Reactivates a suspended tenant. TN043 while it is scheduled for deletion (tenancy.restore_tenant cancels that).';

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
REVOKE EXECUTE ON FUNCTION tenancy._require_not_scheduled(uuid), tenancy.delete_tenant(uuid, interval),
    tenancy.restore_tenant(uuid), tenancy.erase_tenant(uuid), tenancy.erase_due_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.delete_tenant(uuid, interval), tenancy.restore_tenant(uuid),
    tenancy.erase_tenant(uuid), tenancy.erase_due_tenants() TO tenancy_admin;

-- Citus (sql/protect.sql): on Citus the policies differ in two ways. Citus refuses subqueries in the policies of
-- distributed tables: there the function is compared directly (stable, so still evaluated once
-- per index scan). And Citus copies policies to the shards without AS RESTRICTIVE (13.2): there
-- the tenancy_* policies are the permissive ones, alone, which is the same rule as long as no
-- other permissive policy is added (unprotected_tables reports one that is).

CREATE OR REPLACE FUNCTION tenancy._policy_check(module text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format(CASE WHEN tenancy._citus() THEN 'tenant_id = %s'
                       ELSE 'tenant_id = (SELECT %s)' END,
                  CASE WHEN module IS NULL THEN 'tenancy.current_tenant_id()'
                       ELSE format('tenancy.module_tenant_id(%L)', module) END);
$$;

CREATE OR REPLACE FUNCTION tenancy.unprotected_tables() RETURNS TABLE (table_name regclass, problem text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH candidates AS (
        SELECT c.oid, c.relrowsecurity, c.relforcerowsecurity, p.policy_check,
               coalesce(p.write_check, p.policy_check) AS write_check,
               (SELECT a FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS col
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN tenancy.protected_tables p ON p.tbl = c.oid
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenancy', 'pg_toast')
          AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
          AND (p.tbl IS NOT NULL OR EXISTS (
                SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
    ),
    expected (polname, polcmd, has_qual, has_check, is_write) AS (
        VALUES ('tenancy_select', 'r', true, false, false), ('tenancy_insert', 'a', false, true, true),
               ('tenancy_update', 'w', true, true, true), ('tenancy_delete', 'd', true, false, true)
    )
    SELECT oid::regclass, problem FROM (
        SELECT oid, 'not registered: call tenancy.protect' AS problem FROM candidates WHERE policy_check IS NULL
        UNION ALL SELECT oid, 'row level security is not enabled' FROM candidates WHERE NOT relrowsecurity
        UNION ALL SELECT oid, 'row level security is not forced' FROM candidates WHERE NOT relforcerowsecurity
        UNION ALL SELECT oid, 'tenant_id column is missing' FROM candidates WHERE (col).attnum IS NULL
        UNION ALL SELECT oid, 'tenant_id is not uuid' FROM candidates WHERE (col).atttypid <> 'uuid'::regtype
        UNION ALL SELECT oid, 'tenant_id is nullable' FROM candidates WHERE NOT (col).attnotnull
        UNION ALL SELECT oid, 'tenant_id does not default to tenancy.current_tenant_id()' FROM candidates c
            WHERE (c.col).attnum IS NOT NULL AND coalesce((
                SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
                WHERE d.adrelid = c.oid AND d.adnum = (c.col).attnum), '') <> 'tenancy.current_tenant_id()'
        UNION ALL SELECT oid, 'no index led by tenant_id' FROM candidates c
            WHERE NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = (c.col).attnum)
        UNION ALL SELECT c.oid, format('unique index %s does not include tenant_id', i.indexrelid::regclass)
            FROM candidates c JOIN pg_index i ON i.indrelid = c.oid
            WHERE i.indisunique AND NOT coalesce((c.col).attnum = ANY (i.indkey), false)
        UNION ALL SELECT c.oid, format('policy %s widens the tenancy policies', p.polname)
            FROM candidates c JOIN pg_policy p ON p.polrelid = c.oid
            WHERE tenancy._citus() AND p.polpermissive AND p.polname NOT LIKE 'tenancy\_%'
        UNION ALL SELECT c.oid, format('policy tenancy_rows is missing or was changed')
            FROM candidates c WHERE NOT tenancy._citus() AND NOT EXISTS (
                SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenancy_rows' AND p.polpermissive
                  AND p.polcmd = '*' AND p.polroles = '{0}'
                  AND pg_get_expr(p.polqual, p.polrelid) = 'true' AND pg_get_expr(p.polwithcheck, p.polrelid) = 'true')
        UNION ALL SELECT c.oid, format('policy %s is missing or was changed', e.polname)
            FROM candidates c CROSS JOIN expected e
            WHERE c.policy_check IS NOT NULL AND NOT EXISTS (
                SELECT FROM pg_policy p
                WHERE p.polrelid = c.oid AND p.polname = e.polname AND p.polpermissive = tenancy._citus()
                  AND p.polcmd = e.polcmd AND p.polroles = '{0}'
                  AND (NOT e.has_qual OR pg_get_expr(p.polqual, p.polrelid)
                                         = CASE WHEN e.is_write THEN c.write_check ELSE c.policy_check END)
                  AND (NOT e.has_check OR pg_get_expr(p.polwithcheck, p.polrelid) = c.write_check))
    ) problems
    ORDER BY 1::text, 2;
$$;
REVOKE EXECUTE ON FUNCTION tenancy._citus() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy._citus() TO PUBLIC;

-- Spreading a database over Citus: the catalog as reference tables (a copy on every node), the
-- protected tables distributed by tenant_id, all of it in one call (`tenancy migrate` makes it
-- after the migrations; protect distributes by itself once this is done).
--
-- The catalog on every node: a worker answers what the coordinator answers (a module's refusal,
-- a role binding), foreign keys from distributed tables reach it (`REFERENCES
-- tenancy.companies`), and a change fires each node's own catalog_changed trigger (on its copy),
-- invalidating every node's entitlement cache. Three tables stay on the coordinator: the event
-- log (written by the lifecycle functions there; a copy per node would be a write per node per
-- event) and the registries keyed by a table's oid (protected_tables, analytics_columns), a
-- different number on every node.
--
-- Why one call and the foreign keys taken off first: Citus converts one table at a time, and a
-- table with a foreign key to or from a table it does not know yet is refused, or drags the
-- whole graph into Citus's "local table" conversion, which renames the extension's tables and
-- drops its views ("extension tenancy requires it"). So every foreign key touching a table to
-- convert is taken off (the workers' copies of the extension have the catalog's too), the tables
-- converted, and the keys put back through Citus, which then enforces them on every copy. A key
-- from a coordinator table into a distributed one cannot be put back: refused before anything.
CREATE FUNCTION tenancy.distribute() RETURNS TABLE (table_name regclass, made text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    catalog regclass[];
    protected regclass[];
    foreign_keys jsonb;
    fk record;
    view_grants jsonb;
    granted record;
BEGIN
    IF NOT tenancy._citus() THEN
        RAISE EXCEPTION 'tenancy.distribute is for a Citus coordinator: Citus is not installed here'
            USING ERRCODE = '0A000';
    END IF;
    EXECUTE $q$
        SELECT coalesce(array_agg(c.oid::regclass ORDER BY c.relname), '{}') FROM pg_class c
        JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenancy'
        WHERE c.relkind = 'r' AND c.relnamespace = 'tenancy'::regnamespace
          AND c.relname NOT IN ('events', 'protected_tables', 'analytics_columns')
          AND NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)$q$ INTO catalog;
    EXECUTE $q$
        SELECT coalesce(array_agg(t.tbl ORDER BY t.tbl::text), '{}') FROM tenancy.protected_tables t
        WHERE NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = t.tbl)$q$ INTO protected;

    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'tbl', c.conrelid::regclass::text, 'conname', c.conname, 'def', pg_get_constraintdef(c.oid),
               'keep', c.conrelid NOT IN ('tenancy.events'::regclass, 'tenancy.protected_tables'::regclass,
                                          'tenancy.analytics_columns'::regclass))), '[]')
    INTO foreign_keys
    FROM pg_constraint c
    WHERE c.contype = 'f' AND (c.conrelid = ANY (catalog || protected) OR c.confrelid = ANY (catalog || protected));
    SELECT c.conrelid::regclass, c.conname INTO fk FROM pg_constraint c
    WHERE c.contype = 'f' AND c.confrelid = ANY (protected) AND NOT c.conrelid = ANY (protected) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot distribute: % has a foreign key (%) into a tenant table', fk.conrelid, fk.conname
            USING ERRCODE = '0A000', HINT = 'Protect that table too, or drop the key: Citus keeps no foreign key from a coordinator table into a distributed one.';
    END IF;

    -- A table given a key into the catalog below becomes a Citus local table, and Citus rebuilds
    -- the views over it without their grants (api.members lost tenant_member's): noted here,
    -- given back at the end.
    SELECT coalesce(jsonb_object_agg(c.oid::regclass::text, c.relacl::text), '{}') INTO view_grants
    FROM pg_class c WHERE c.relkind IN ('v', 'm') AND c.relacl IS NOT NULL;

    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);  -- the catalog_changed triggers
    -- one connection per node: Citus requires it of a transaction that changes reference tables
    -- with foreign keys between them after distributing tables
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    FOR fk IN SELECT * FROM jsonb_to_recordset(foreign_keys) AS k (tbl text, conname text, def text, keep bool) LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
        EXECUTE 'SELECT run_command_on_workers($1)'
            USING format('ALTER TABLE IF EXISTS %s DROP CONSTRAINT IF EXISTS %I', fk.tbl, fk.conname);
    END LOOP;
    FOREACH table_name IN ARRAY catalog LOOP
        EXECUTE 'SELECT create_reference_table($1)' USING table_name;
        -- the rows now live in the reference shards; the coordinator's table is only the shell
        EXECUTE 'SELECT truncate_local_data_after_distributing_table($1)' USING table_name;
        made := 'reference table';
        RETURN NEXT;
    END LOOP;
    FOREACH table_name IN ARRAY protected LOOP
        EXECUTE 'SELECT create_distributed_table($1, ''tenant_id'')' USING table_name;
        EXECUTE 'SELECT truncate_local_data_after_distributing_table($1)' USING table_name;
        made := 'distributed by tenant_id';
        RETURN NEXT;
    END LOOP;
    FOR fk IN SELECT * FROM jsonb_to_recordset(foreign_keys) AS k (tbl text, conname text, def text, keep bool)
              WHERE k.keep LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.conname, fk.def);
    END LOOP;
    FOR granted IN
        SELECT v.key AS view_name, a.privilege_type, a.grantee, a.is_grantable
        FROM jsonb_each_text(view_grants) v
        JOIN pg_class c ON c.oid = to_regclass(v.key)
        CROSS JOIN LATERAL aclexplode(v.value::aclitem[]) a
        WHERE c.relacl IS DISTINCT FROM v.value::aclitem[] AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %s ON %s TO %s%s', granted.privilege_type, granted.view_name,
                       CASE granted.grantee WHEN 0 THEN 'PUBLIC' ELSE granted.grantee::regrole::text END,
                       CASE WHEN granted.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    -- A worker reads its copy of the catalog inside the shard queries it runs (a policy's
    -- permission check, a module's refusal), which Citus calls nested distributed execution and
    -- refuses by default, for fear of a nested query over distributed tables. Ours read reference
    -- tables, whose copy is local and complete. (Only the workers: on the coordinator the guard stays.)
    EXECUTE 'SELECT run_command_on_workers($1)' USING format(
        'SET citus.enable_ddl_propagation = off; ALTER DATABASE %I SET citus.allow_nested_distributed_execution = on',
        current_database());
END $$;
COMMENT ON FUNCTION tenancy.distribute() IS
'On a Citus coordinator (superuser): the tenancy catalog as reference tables (a copy on every node; the event log and the registries keyed by table oid stay on the coordinator) and every protected table not yet distributed distributed by tenant_id, co-located, keeping the foreign keys between them. Returns what it converted; nothing when all is done. `tenancy migrate` calls it on Citus.';

-- Whether tenancy.distribute has run: from then on, protect distributes a table itself.
CREATE FUNCTION tenancy._catalog_distributed() RETURNS bool
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tenancy._citus() THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = 'tenancy.tenants'::regclass);
END $$;

-- Citus locks the reference shards a statement writes, then those its foreign keys reach, so two
-- catalog changes at once (a tenant created while another tenant enables a module) took them in
-- opposite orders and one was cancelled: "deadlock detected". On a distributed cluster every
-- catalog-writing function of the extension takes this one lock first, and they queue instead.
CREATE FUNCTION tenancy._serialize_catalog_writes() RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF tenancy._catalog_distributed() THEN
        PERFORM pg_advisory_xact_lock(hashtext('tenancy catalog writes'));
    END IF;
END $$;
REVOKE EXECUTE ON FUNCTION tenancy._serialize_catalog_writes() FROM PUBLIC;

-- Citus: a role bound to several tenants chooses one for its lone statements on the workers too.
-- On Citus: the tenant a role bound to several chose with use_tenant, by the coordinator session
-- that chose it (Citus's global pid, which the workers serving that session see as theirs), so a
-- worker resolves a lone statement's binding as the coordinator does. Empty on one node.
CREATE TABLE tenancy.tenant_choices (
    role      regrole NOT NULL,
    gpid      bigint NOT NULL,
    tenant_id uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    chosen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, gpid)
);
COMMENT ON TABLE tenancy.tenant_choices IS 'On Citus: the tenant each coordinator session of a role bound to several tenants chose (use_tenant), for the workers serving that session.';

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

CREATE OR REPLACE FUNCTION tenancy._resolve_binding() RETURNS uuid
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

CREATE OR REPLACE FUNCTION tenancy.use_tenant(tenant uuid) RETURNS void
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
REVOKE ALL ON tenancy.tenant_choices FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tenancy._recorded_choice(oid), tenancy._record_choice(regrole, uuid) FROM PUBLIC;

-- Catalog writers unchanged since 0.1.0 but for that lock.
CREATE OR REPLACE FUNCTION tenancy.bind_role(role regrole, tenant uuid) RETURNS void
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

CREATE OR REPLACE FUNCTION tenancy.unbind_role(role regrole, tenant uuid) RETURNS bool
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

CREATE OR REPLACE FUNCTION tenancy.set_company_module(
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

CREATE OR REPLACE FUNCTION tenancy._set_status(tenant uuid, new_status text) RETURNS void
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

CREATE OR REPLACE FUNCTION tenancy.create_company(tenant uuid, name text) RETURNS uuid
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

CREATE OR REPLACE FUNCTION tenancy.create_tenant(slug text, name text, plan text DEFAULT 'free',
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
REVOKE EXECUTE ON FUNCTION tenancy.distribute() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy._require_known_permissions(text[]), tenancy._unknown_permissions(text[]) TO PUBLIC;


CREATE OR REPLACE FUNCTION tenancy.install_module(manifest jsonb) RETURNS void
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

CREATE OR REPLACE FUNCTION tenancy.enable_module(tenant uuid, module text, config jsonb DEFAULT '{}')
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

-- The check of writes: the tenant's, and, for a table whose writes need a permission (protect's
-- write_permission), that permission too. In the tenancy policies themselves, not in a policy
-- of its own: on Citus only permissive policies survive (above), and a permissive one would widen.
CREATE FUNCTION tenancy._write_check(module text, write_permission text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT tenancy._policy_check(module) || CASE
        WHEN write_permission IS NULL THEN ''
        WHEN tenancy._citus() THEN format(' AND tenancy.require_permission(%L)', write_permission)
        ELSE format(' AND (SELECT tenancy.require_permission(%L))', write_permission) END;
$$;
-- as privileges.sql grants them (revoked first, so the ACL matches a fresh install's)
REVOKE EXECUTE ON FUNCTION tenancy._catalog_distributed(), tenancy._write_check(text, text),
    tenancy._register_protected(regclass, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy._catalog_distributed(), tenancy._write_check(text, text),
    tenancy._register_protected(regclass, text, text, text) TO PUBLIC;
