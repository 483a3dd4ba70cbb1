-- expect: index-without-concurrently at 3:37
-- hrms.employees exists already (migration V2): indexing it blocks writes.
CREATE INDEX employees_last_name ON hrms.employees (tenant_id, last_name);
CREATE INDEX CONCURRENTLY employees_hired ON hrms.employees (tenant_id, hired_on);
-- a table created earlier in the same run is empty
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, name text, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.contacts', 'crm');
CREATE INDEX ON crm.contacts (tenant_id, name);
