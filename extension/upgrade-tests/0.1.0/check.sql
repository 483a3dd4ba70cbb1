-- 0.1.0's behaviour, checked under the old SQL with the new library and again after the update.
\set ON_ERROR_STOP 1
BEGIN;
SELECT tenancy.enter_tenant(id) FROM tenancy.tenants WHERE slug = 'upgrade-a';
SET LOCAL ROLE tenant_member;
DO $$ BEGIN
    ASSERT (SELECT count(*) FROM upgrade_fixture.notes) = 3, 'A sees exactly its 3 notes';
    ASSERT (SELECT bool_and(body LIKE 'upgrade-a %') FROM upgrade_fixture.notes), 'only A''s notes';
    ASSERT tenancy.module_config('notes') = '{"page_size": 50, "colors": {"bg": "white"}}', 'config merged';
    ASSERT tenancy.has_feature('notes', 'pinning'), 'feature from the manifest';
    INSERT INTO upgrade_fixture.notes (body) VALUES ('written after');
    ASSERT (SELECT count(*) FROM upgrade_fixture.notes) = 4, 'insert takes the context''s tenant';
    UPDATE upgrade_fixture.notes SET body = 'moved' WHERE tenant_id <> tenancy.current_tenant_id();
    ASSERT NOT FOUND, 'no other tenant''s row can be updated';
END $$;
ROLLBACK;

BEGIN;
SELECT tenancy.enter_tenant(t.id, c.id) FROM tenancy.tenants t JOIN tenancy.companies c ON c.tenant_id = t.id
WHERE t.slug = 'upgrade-a';
SET LOCAL ROLE tenant_member;
DO $$ BEGIN
    PERFORM count(*) FROM upgrade_fixture.notes;
    RAISE EXCEPTION 'the company has notes switched off: TN010 expected';
EXCEPTION WHEN SQLSTATE 'TN010' THEN NULL;
END $$;
ROLLBACK;

BEGIN;
SET LOCAL ROLE upgrade_analyst;
DO $$ BEGIN
    ASSERT (SELECT count(*) FROM upgrade_fixture.notes) = 2, 'the analyst sees B''s 2 notes';
    ASSERT (SELECT slug FROM tenancy.bound_tenants()) = 'upgrade-b', 'bound to B';
END $$;
ROLLBACK;

DO $$ BEGIN
    ASSERT NOT EXISTS (SELECT FROM tenancy.unprotected_tables()), 'nothing unprotected';
    ASSERT tenancy.current_tenant_id() IS NULL, 'no context outside a transaction that entered one';
END $$;

-- Every other function of 0.1.0's API, called once, in a transaction that leaves nothing.
BEGIN;
DO $$
DECLARE
    t uuid := tenancy.create_tenant('upgrade-c', 'Upgrade C', 'standard', '{}', '{notes}');
    c uuid := tenancy.create_company(t, 'Branch');
    removed jsonb;
BEGIN
    PERFORM tenancy.enable_module(t, 'notes', '{"page_size": 5}');
    PERFORM tenancy.set_company_module(c, 'notes', true, '{"page_size": 7}', '{pinning}', NULL);
    PERFORM tenancy.suspend_tenant(t);
    PERFORM tenancy.activate_tenant(t);
    PERFORM tenancy.bind_role('upgrade_analyst', t);
    ASSERT tenancy.unbind_role('upgrade_analyst', t), 'unbind';
    ASSERT tenancy.merge_config('{"a": {"b": 1}}', '{"a": {"c": 2}}') = '{"a": {"b": 1, "c": 2}}', 'merge';
    ASSERT tenancy.public_config('upgrade-c') ->> 'name' = 'Upgrade C', 'public config';
    PERFORM tenancy.check_subdomain(t, 'upgrade-c');
    PERFORM tenancy.enter_tenant(t, c);
    ASSERT tenancy.current_company_id() = c, 'company';
    ASSERT tenancy.has_module('notes') AND tenancy.require_module('notes'), 'module';
    ASSERT tenancy.module_tenant_id('notes') = t, 'module tenant';
    ASSERT tenancy.module_config('notes') ->> 'page_size' = '7', 'company config';
    PERFORM tenancy.disable_module(t, 'notes');
    CREATE TABLE upgrade_fixture.scratch (tenant_id uuid, id int, PRIMARY KEY (tenant_id, id));
    PERFORM tenancy.protect('upgrade_fixture.scratch');
    -- 0.2.0 made delete_tenant a soft delete (suspend, erase after a grace period); the
    -- immediate erasure 0.1.0's delete_tenant did is erase_tenant's since.
    IF (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'tenancy') = '0.1.0' THEN
        removed := tenancy.delete_tenant(t);
    ELSE
        ASSERT tenancy.delete_tenant(t) ->> 'status' = 'suspended', 'delete_tenant schedules';
        removed := tenancy.erase_tenant(t);
    END IF;
    ASSERT removed ? 'upgrade_fixture.notes', 'the erasure reports every protected table';
END $$;
ROLLBACK;

BEGIN;
SET LOCAL ROLE upgrade_analyst;
SELECT tenancy.use_tenant(id) FROM tenancy.bound_tenants();
ROLLBACK;
