-- The schema cache: every table and view of the exposed schemas ($1), their columns, primary
-- keys and foreign keys (one-to-one where unique), and every function with named arguments, as
-- one JSON document built by PostgreSQL. A view has the keys of its base tables that it shows, as
-- PostgREST infers them: a foreign key whose columns the view shows is the view's, a foreign
-- key to columns the view shows also points at the view; through views of views too.
WITH RECURSIVE target_entries AS (
    -- Each column of a view that is a plain column of a relation (a table or another view): the
    -- view's query tree names its origin (`resorigtbl`, `resorigcol`). The name must be the
    -- view's own at that position, so a subquery's target list does not count.
    SELECT r.ev_class AS view, m[1]::int2 AS attnum, m[3]::oid AS origin, m[4]::int2 AS origin_attnum
    FROM pg_rewrite r
    JOIN pg_class v ON v.oid = r.ev_class AND v.relkind IN ('v', 'm')
    JOIN pg_namespace vn ON vn.oid = v.relnamespace AND vn.nspname NOT IN ('pg_catalog', 'information_schema')
    CROSS JOIN LATERAL regexp_matches(r.ev_action::text,
        ':resno (\d+) :resname (\S+) :ressortgroupref \d+ :resorigtbl (\d+) :resorigcol (\d+)', 'g') AS m
    WHERE r.rulename = '_RETURN' AND m[3] <> '0'
      AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = v.oid AND a.attnum = m[1]::int2 AND a.attname = m[2])
),
origins (view, attnum, base, base_attnum) AS (
    -- Each view column's origins, down through views of views (UNION ends a cycle).
    SELECT view, attnum, origin, origin_attnum FROM target_entries
    UNION
    SELECT o.view, o.attnum, te.origin, te.origin_attnum
    FROM origins o JOIN target_entries te ON te.view = o.base AND te.attnum = o.base_attnum
),
view_columns AS (
    -- Each column of an exposed view showing a column of a relation, by name; a base column may
    -- be shown under several names.
    SELECT o.view, o.attnum AS view_attnum, a.attname::text AS view_column, o.base, o.base_attnum
    FROM origins o
    JOIN pg_attribute a ON a.attrelid = o.view AND a.attnum = o.attnum
    JOIN pg_class v ON v.oid = o.view
    JOIN pg_namespace vn ON vn.oid = v.relnamespace AND vn.nspname = ANY ($1::text[])
),
unique_column_sets AS (
    -- The columns of each primary key and unique constraint, as sets.
    SELECT conrelid AS rel, array_agg(k ORDER BY k) AS attnums
    FROM pg_constraint CROSS JOIN unnest(conkey) AS k
    WHERE contype IN ('p', 'u')
    GROUP BY oid, conrelid
),
key_columns AS (
    -- Both sides of every foreign key (not a partition's copy of its parent's): the relation and
    -- its column numbers, in key order.
    SELECT con.oid AS fk, side.side, side.rel, side.attnums
    FROM pg_constraint con
    CROSS JOIN LATERAL (VALUES ('own', con.conrelid, con.conkey), ('ref', con.confrelid, con.confkey))
        AS side (side, rel, attnums)
    WHERE con.contype = 'f' AND con.conparentid = 0
),
column_names AS (
    -- A side's column names, in key order.
    SELECT kc.fk, kc.side, array_agg(a.attname::text ORDER BY k.ord) AS names
    FROM key_columns kc
    CROSS JOIN unnest(kc.attnums) WITH ORDINALITY AS k (attnum, ord)
    JOIN pg_attribute a ON a.attrelid = kc.rel AND a.attnum = k.attnum
    GROUP BY kc.fk, kc.side
),
view_key_choices AS (
    -- For each column of a side, each view column showing it.
    SELECT kc.fk, kc.side, vc.view, k.ord, cardinality(kc.attnums) AS width, vc.view_column
    FROM key_columns kc
    CROSS JOIN unnest(kc.attnums) WITH ORDINALITY AS k (attnum, ord)
    JOIN view_columns vc ON vc.base = kc.rel AND vc.base_attnum = k.attnum
),
view_keys (fk, side, view, ord, width, names) AS (
    -- The views that show every column of a side: one key per way of naming its columns.
    SELECT fk, side, view, ord, width, ARRAY[view_column] FROM view_key_choices WHERE ord = 1
    UNION ALL
    SELECT vk.fk, vk.side, vk.view, c.ord, vk.width, vk.names || c.view_column
    FROM view_keys vk
    JOIN view_key_choices c ON c.fk = vk.fk AND c.side = vk.side AND c.view = vk.view AND c.ord = vk.ord + 1
),
key_sides AS (
    -- Each side of a foreign key as the table has it, and as each view that shows it has it.
    SELECT kc.fk, kc.side, kc.rel, cn.names
    FROM key_columns kc
    JOIN column_names cn ON cn.fk = kc.fk AND cn.side = kc.side
    UNION ALL
    SELECT fk, side, view, names FROM view_keys WHERE ord = width
),
representations AS (
    -- Data representations, as PostgREST reads them: implicit casts through a function between a
    -- domain and json or text. `to_json` writes a column of the domain into a body, `from_json`
    -- reads one from a body, `from_text` from the query string.
    SELECT CASE WHEN c.casttarget = 'json'::regtype THEN c.castsource ELSE c.casttarget END AS domain,
           CASE WHEN c.casttarget = 'json'::regtype THEN 'to_json'
                WHEN c.castsource = 'json'::regtype THEN 'from_json'
                ELSE 'from_text' END AS direction,
           format('%I.%I', fn.nspname, f.proname) AS function
    FROM pg_cast c
    JOIN pg_type s ON s.oid = c.castsource
    JOIN pg_type t ON t.oid = c.casttarget
    JOIN pg_proc f ON f.oid = c.castfunc
    JOIN pg_namespace fn ON fn.oid = f.pronamespace
    WHERE c.castcontext = 'i' AND c.castmethod = 'f' AND has_function_privilege(c.castfunc, 'execute')
      AND ((s.typtype = 'd' AND c.casttarget = 'json'::regtype)
           OR (t.typtype = 'd' AND c.castsource IN ('json'::regtype, 'text'::regtype)))
),
foreign_keys AS (
    -- table to table, view to table, table to view, view to view; one-to-one when the key's
    -- columns are the table's primary key or a unique key
    SELECT own.rel, con.conname AS name, own.names AS columns, ref.rel AS ref, ref.names AS ref_columns,
           EXISTS (SELECT FROM unique_column_sets u
                   WHERE u.rel = con.conrelid AND u.attnums = (SELECT array_agg(k ORDER BY k) FROM unnest(con.conkey) AS k))
               AS one_to_one
    FROM pg_constraint con
    JOIN key_sides own ON own.fk = con.oid AND own.side = 'own'
    JOIN key_sides ref ON ref.fk = con.oid AND ref.side = 'ref'
)
SELECT json_build_object(
    'functions', coalesce((
        SELECT json_agg(json_build_object(
            'schema', n.nspname,
            'name', p.proname,
            'args', coalesce((
                SELECT json_agg(json_build_object(
                    'name', coalesce(a.name, ''),
                    'type_name', format_type(a.type, NULL),
                    'has_default', a.ord > p.pronargs - p.pronargdefaults,
                    -- VARIADIC: always the last parameter
                    'variadic', p.provariadic <> 0 AND a.ord = p.pronargs) ORDER BY a.ord)
                FROM unnest(p.proargtypes::oid[], (
                         SELECT array_agg(x.name ORDER BY x.i)
                         FROM unnest(coalesce(p.proargnames, '{}'), coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs])))
                              WITH ORDINALITY AS x (name, mode, i)
                         WHERE x.mode IN ('i', 'b', 'v'))) WITH ORDINALITY AS a (type, name, ord)), '[]'),
            'returns_set', p.proretset,
            -- PostgREST's media type handlers: a function returning one value of a domain named
            -- like a media type (`"text/plain"`, `"*/*"` for any) answers it raw when asked
            -- for it; domains over text types only (the body is text)
            'media_type', (
                SELECT lower(t.typname)
                FROM pg_type t
                WHERE t.oid = p.prorettype AND t.typtype = 'd' AND NOT p.proretset
                  AND t.typbasetype IN ('text'::regtype, 'xml'::regtype, 'varchar'::regtype, 'json'::regtype)
                  AND (t.typname ~* '^[A-Za-z0-9.-]+/[A-Za-z0-9.+-]+$' OR t.typname = '*/*')),
            'return_type', format_type(p.prorettype, NULL),
            'return_relation', (
                SELECT json_build_object('schema', rn.nspname, 'name', rc.relname)
                FROM pg_type t JOIN pg_class rc ON rc.oid = t.typrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                WHERE t.oid = p.prorettype AND t.typtype = 'c' AND rc.relkind IN ('r', 'p', 'v', 'm', 'f')),
            'out_columns', coalesce((
                SELECT json_agg(json_build_object(
                    'name', x.name, 'type_name', format_type(x.type, NULL),
                    'nullable', true, 'has_default', false, 'generated', true) ORDER BY x.i)
                FROM unnest(p.proargnames, p.proargmodes, p.proallargtypes) WITH ORDINALITY AS x (name, mode, type, i)
                WHERE x.mode IN ('o', 'b', 't')), '[]')) ORDER BY p.oid)
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY ($1::text[]) AND p.prokind = 'f'
          AND (p.pronargs = 0 OR p.proargnames IS NOT NULL
               -- one unnamed parameter of a type a POST's whole body can be, by its Content-Type
               OR (p.pronargs = 1 AND p.proargtypes[0] IN ('json'::regtype, 'jsonb'::regtype, 'text'::regtype,
                                                          'xml'::regtype, 'bytea'::regtype)))), '[]'),
    'relations', coalesce((
        SELECT json_agg(json_build_object(
            'schema', n.nspname,
            'name', c.relname,
            'is_view', c.relkind IN ('v', 'm'),
            'columns', coalesce((
                SELECT json_agg(json_build_object(
                    'name', a.attname,
                    'type_name', format_type(a.atttypid, NULL),
                    'nullable', NOT a.attnotnull,
                    'has_default', a.atthasdef OR a.attidentity <> '' OR dom.typdefault IS NOT NULL,
                    'generated', a.attgenerated <> '' OR a.attidentity = 'a',
                    'default', CASE
                        WHEN a.attgenerated <> '' THEN NULL
                        WHEN a.attidentity <> '' THEN (
                            SELECT format('nextval(%L::regclass)', s.oid::regclass::text)
                            FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
                            WHERE dep.classid = 'pg_class'::regclass AND dep.refobjid = c.oid
                              AND dep.refobjsubid = a.attnum AND dep.deptype = 'i')
                        -- the column's own default, else its domain's
                        ELSE coalesce(pg_get_expr(d.adbin, d.adrelid), dom.typdefault) END,
                    'to_json', (SELECT function FROM representations WHERE domain = a.atttypid AND direction = 'to_json'),
                    'from_json', (SELECT function FROM representations WHERE domain = a.atttypid AND direction = 'from_json'),
                    'from_text', (SELECT function FROM representations WHERE domain = a.atttypid AND direction = 'from_text'),
                    -- how json_populate_record reads a body's value into the column (BodyValue)
                    'body_value', CASE
                        WHEN dom.oid IS NOT NULL THEN 'domain'
                        WHEN a.atttypid IN ('json'::regtype, 'jsonb'::regtype) THEN 'json'
                        WHEN ty.typtype = 'c' OR ty.typsubscript = 'array_subscript_handler'::regproc THEN 'structured'
                        ELSE 'text' END)
                    ORDER BY a.attnum)
                FROM pg_attribute a
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                LEFT JOIN pg_type dom ON dom.oid = a.atttypid AND dom.typtype = 'd'
                JOIN pg_type ty ON ty.oid = a.atttypid
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'),
            'primary_key', coalesce((
                SELECT json_agg(a.attname ORDER BY k.ord)
                FROM pg_constraint con
                CROSS JOIN unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                WHERE con.conrelid = c.oid AND con.contype = 'p'), (
                -- a view of one table's columns: that table's primary key, when it shows all of it
                -- (a column shown twice under its first name)
                SELECT json_agg(vc.view_column ORDER BY k.ord)
                FROM pg_constraint con
                CROSS JOIN unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
                CROSS JOIN LATERAL (
                    SELECT view_column FROM view_columns
                    WHERE view = c.oid AND base = con.conrelid AND base_attnum = k.attnum
                    ORDER BY view_attnum LIMIT 1) AS vc
                WHERE con.contype = 'p'
                  AND (SELECT count(DISTINCT vc.base) FROM view_columns vc
                       JOIN pg_class b ON b.oid = vc.base AND b.relkind IN ('r', 'p') WHERE vc.view = c.oid) = 1
                HAVING count(*) = cardinality(min(con.conkey))), '[]'),
            -- computed columns: functions of the relation's row type returning one value
            'computed', coalesce((
                SELECT json_agg(json_build_object(
                    'schema', pn.nspname, 'name', p.proname, 'type_name', format_type(p.prorettype, NULL)))
                FROM pg_proc p
                JOIN pg_namespace pn ON pn.oid = p.pronamespace
                JOIN pg_type rt ON rt.oid = p.prorettype
                WHERE p.pronargs = 1 AND p.proargtypes[0] = c.reltype AND NOT p.proretset AND p.prokind = 'f'
                  AND rt.typtype <> 'c' AND pn.nspname = ANY ($1::text[])), '[]'),
            -- computed relationships: functions of the row type returning rows of a relation;
            -- to-one when they return one row (or SETOF ... ROWS 1), as PostgREST reads them
            'computed_relationships', coalesce((
                SELECT json_agg(json_build_object(
                    'schema', pn.nspname, 'name', p.proname, 'many', p.proretset AND p.prorows <> 1,
                    'ref_schema', rn.nspname, 'ref_table', rc.relname))
                FROM pg_proc p
                JOIN pg_namespace pn ON pn.oid = p.pronamespace
                JOIN pg_type rt ON rt.oid = p.prorettype
                JOIN pg_class rc ON rc.oid = rt.typrelid AND rc.relkind IN ('r', 'p', 'v', 'm', 'f')
                JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                WHERE p.pronargs = 1 AND p.proargtypes[0] = c.reltype AND p.prokind = 'f'
                  AND pn.nspname = ANY ($1::text[]) AND rn.nspname = ANY ($1::text[])), '[]'),
            'foreign_keys', coalesce((
                SELECT json_agg(json_build_object(
                    'name', fk.name, 'columns', fk.columns,
                    'ref_schema', rn.nspname, 'ref_table', rc.relname, 'ref_columns', fk.ref_columns,
                    'one_to_one', fk.one_to_one) ORDER BY fk.name, fk.columns, rc.relname, fk.ref_columns)
                FROM foreign_keys fk
                JOIN pg_class rc ON rc.oid = fk.ref
                JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                WHERE fk.rel = c.oid), '[]')))
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        -- partitions are reached through their parent, as in PostgREST
        WHERE n.nspname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition), '[]')
)::text
