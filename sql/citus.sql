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
