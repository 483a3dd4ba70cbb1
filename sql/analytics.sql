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
