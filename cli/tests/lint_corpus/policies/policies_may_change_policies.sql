-- expect: clean
-- A policies/ file is where a tenant table's policies and RLS switches belong (the same
-- statements in a migration: policy_outside_policies.sql, rls_disabled.sql).
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.contacts', 'crm');
DROP POLICY IF EXISTS old_policy ON crm.contacts;
ALTER POLICY tenancy_rows ON crm.contacts USING (true);
ALTER TABLE crm.contacts NO FORCE ROW LEVEL SECURITY;
