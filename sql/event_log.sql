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
