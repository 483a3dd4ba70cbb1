-- `tenancy doctor`'s check of analytics classes (tenancy 0.2.0): a column without a class is
-- private, which is safe; the finding says so and prints the protect call that declares it.
-- (check, severity, subject, problem, fix), ordered.
SELECT 'analytics-unclassified', 'warning', c.table_name,
       format('no analytics class for %s (private until declared)', string_agg(c.column_name, ', ' ORDER BY c.column_name)),
       format('SELECT tenancy.protect(%L%s, analytics => %L);', c.table_name, coalesce(', ' || quote_literal(p.module), ''),
              (SELECT coalesce(jsonb_object_agg(d.col, jsonb_strip_nulls(jsonb_build_object(
                                   'class', d.class, 'extremes', nullif(d.extremes, false), 'reason', d.reason))), '{}')
               FROM tenancy.analytics_columns d WHERE d.tbl = c.table_name::regclass)
              || jsonb_object_agg(c.column_name, 'private'))
FROM tenancy.analytics_classes c JOIN tenancy.protected_tables p ON p.tbl = c.table_name::regclass
WHERE NOT c.declared
GROUP BY c.table_name, p.module
ORDER BY 1, 3;
