-- The application's tables as `tenancy lint` needs them (lint/live.rs): every ordinary or
-- partitioned table outside the extension's schema and PostgreSQL's own (as lint/names.rs
-- counts schemas), with its columns and its primary key's columns, in key order.
SELECT c.oid,
       n.nspname::text,
       c.relname::text,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
       ARRAY(SELECT a.attname::text
             FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.ord)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('tenancy', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%'
