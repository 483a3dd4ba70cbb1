-- tenancy 0.1.0 -> 0.2.0

-- pg_dump carries the catalog (sql/catalog.sql)
SELECT pg_catalog.pg_extension_config_dump('tenancy.plans', $$WHERE key NOT IN ('free', 'standard', 'premium', 'enterprise')$$);
-- one call per statement: each rewrites the extension's row
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.companies', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.company_modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.role_bindings', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_tables', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.events', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.events_id_seq', '');
