-- What the request's role may do in the exposed schema $1, and the catalog's words on it
-- (comments, enum labels, lengths), for the OpenAPI document: run as that role, inside the
-- request's transaction.
SELECT NULL::bigint AS total, 0::bigint AS page, json_build_object(
    'relations', coalesce((
        SELECT json_object_agg(c.relname, json_build_object(
            'select', has_table_privilege(c.oid, 'SELECT'), 'insert', has_table_privilege(c.oid, 'INSERT'),
            'update', has_table_privilege(c.oid, 'UPDATE'), 'delete', has_table_privilege(c.oid, 'DELETE'),
            'comment', obj_description(c.oid, 'pg_class'),
            'columns', coalesce((
                SELECT json_object_agg(a.attname, json_build_object(
                    'comment', col_description(c.oid, a.attnum),
                    'max_length', information_schema._pg_char_max_length(a.atttypid, a.atttypmod),
                    'enum', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)
                             FROM pg_enum e WHERE e.enumtypid = a.atttypid)))
                FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}')))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')), '{}'),
    'functions', coalesce((
        SELECT json_object_agg(f.proname, json_build_object('comment', f.comment, 'volatile', f.volatile))
        FROM (SELECT DISTINCT ON (p.proname) p.proname, obj_description(p.oid, 'pg_proc') AS comment,
                     p.provolatile = 'v' AS volatile
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = $1 AND p.prokind = 'f' AND has_function_privilege(p.oid, 'EXECUTE')
              ORDER BY p.proname, p.oid) f), '{}'),
    'schema_usage', has_schema_privilege($1, 'USAGE'),
    'schema_comment', obj_description(to_regnamespace($1), 'pg_namespace')
)::text AS body
