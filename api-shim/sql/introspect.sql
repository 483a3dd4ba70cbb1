-- The schema cache: every table and view of the exposed schemas ($1), their columns, primary
-- keys and foreign keys, as one JSON document built by PostgreSQL.
SELECT json_build_object(
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
                    'has_default', a.atthasdef OR a.attidentity <> '',
                    'generated', a.attgenerated <> '' OR a.attidentity = 'a') ORDER BY a.attnum)
                FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'),
            'primary_key', coalesce((
                SELECT json_agg(a.attname ORDER BY k.ord)
                FROM pg_constraint con
                CROSS JOIN unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                WHERE con.conrelid = c.oid AND con.contype = 'p'), '[]'),
            'foreign_keys', coalesce((
                SELECT json_agg(json_build_object(
                    'name', con.conname,
                    'columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                                FROM unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
                                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
                    'ref_schema', rn.nspname,
                    'ref_table', rc.relname,
                    'ref_columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                                    FROM unnest(con.confkey) WITH ORDINALITY AS k (attnum, ord)
                                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)))
                FROM pg_constraint con
                JOIN pg_class rc ON rc.oid = con.confrelid
                JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                WHERE con.conrelid = c.oid AND con.contype = 'f'), '[]')))
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')), '[]')
)::text
