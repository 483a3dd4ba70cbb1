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
