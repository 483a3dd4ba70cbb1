-- Making a table tenant-owned, and finding the ones that are not (fully).
-- SQLSTATE TN030: the table cannot be protected as it stands.

-- The four per-command policies are RESTRICTIVE, so no other policy can widen them: a
-- permissive policy someone adds later can only narrow what the tenant already sees.
-- `tenancy_rows` is the one permissive policy that lets the restrictive ones decide.
-- The tenant (and, for a module's table, the entitlement) is one scalar subquery: a single
-- InitPlan per statement, and `tenant_id = $param` keeps the tenant_id index usable. The
-- entitlement lives in the same subquery because RLS quals are never one-time filters: a
-- separate check would only run when some row reached it.
-- On Citus the policies differ in two ways. Citus refuses subqueries in the policies of
-- distributed tables: there the function is compared directly (stable, so still evaluated once
-- per index scan). And Citus copies policies to the shards without AS RESTRICTIVE (13.2): there
-- the tenancy_* policies are the permissive ones, alone, which is the same rule as long as no
-- other permissive policy is added (unprotected_tables reports one that is).
CREATE FUNCTION tenancy._citus() RETURNS bool
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus');
$$;

CREATE FUNCTION tenancy._policy_check(module text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format(CASE WHEN tenancy._citus() THEN 'tenant_id = %s'
                       ELSE 'tenant_id = (SELECT %s)' END,
                  CASE WHEN module IS NULL THEN 'tenancy.current_tenant_id()'
                       ELSE format('tenancy.module_tenant_id(%L)', module) END);
$$;

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

CREATE FUNCTION tenancy.unprotected_tables() RETURNS TABLE (table_name regclass, problem text)
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
COMMENT ON FUNCTION tenancy.unprotected_tables() IS
'Every table in an application schema that has a tenant_id column or was registered, but is not fully protected, with what is missing: registration, enabled and forced RLS, the tenancy policies as installed, a NOT NULL uuid tenant_id defaulting to the current tenant, an index led by it, keys that include it. Empty when all is well.';

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

-- A dropped table leaves the registry with it.
CREATE FUNCTION tenancy._forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    DELETE FROM tenancy.protected_tables p
    WHERE p.tbl::oid IN (SELECT o.objid FROM pg_event_trigger_dropped_objects() o
                         WHERE o.classid = 'pg_class'::regclass AND o.objsubid = 0);
END $$;
CREATE EVENT TRIGGER tenancy_forget_dropped_tables ON sql_drop
    WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION tenancy._forget_dropped_tables();
