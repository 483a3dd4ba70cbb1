-- expect: rls-disabled at 6:13
-- expect: rls-disabled at 7:13
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.contacts', 'crm');
ALTER TABLE crm.contacts DISABLE ROW LEVEL SECURITY;
ALTER TABLE crm.contacts NO FORCE ROW LEVEL SECURITY;
-- a table without tenant rows may do as it likes
CREATE TABLE crm.countries (code text PRIMARY KEY); -- tenancy-lint: allow unprotected-table -- reference data, the same for every tenant
ALTER TABLE crm.countries DISABLE ROW LEVEL SECURITY;
