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
