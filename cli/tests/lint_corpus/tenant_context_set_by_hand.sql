-- expect: tenant-context-set-by-hand at 6:8
-- expect: tenant-context-set-by-hand at 7:8
-- expect: tenant-context-set-by-hand at 8:8
-- expect: tenant-context-set-by-hand at 9:8
-- expect: tenant-context-set-by-hand at 10:1
SELECT tenancy.enter_tenant('7cd3e7b3-990b-4f11-a126-091532300221');
SELECT tenancy._enter('7cd3e7b3-990b-4f11-a126-091532300221', NULL);
SELECT tenancy.use_tenant(id) FROM tenancy.tenants WHERE slug = 'acme';
SELECT set_config('tenancy.tenant_id', '7cd3e7b3-990b-4f11-a126-091532300221', true);
SET LOCAL tenancy.tenant_id = '7cd3e7b3-990b-4f11-a126-091532300221';
SELECT set_config('statement_timeout', '5s', true);
SELECT tenancy.current_tenant_id();
