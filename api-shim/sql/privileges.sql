-- What the request's role may do in the exposed schema $1, for the OpenAPI document:
-- run as that role, inside the request's transaction.
SELECT NULL::bigint AS total, 0::bigint AS page, json_build_object(
    'relations', coalesce((
        SELECT json_object_agg(c.relname, json_build_object(
            'select', has_table_privilege(c.oid, 'SELECT'), 'insert', has_table_privilege(c.oid, 'INSERT'),
            'update', has_table_privilege(c.oid, 'UPDATE'), 'delete', has_table_privilege(c.oid, 'DELETE')))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')), '{}'),
    'functions', coalesce((
        SELECT json_agg(DISTINCT p.proname)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = $1 AND p.prokind = 'f' AND has_function_privilege(p.oid, 'EXECUTE')), '[]'),
    'schema_usage', has_schema_privilege($1, 'USAGE')
)::text AS body
