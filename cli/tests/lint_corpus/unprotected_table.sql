-- expect: unprotected-table at 5:14
-- expect: unprotected-table at 7:14
-- expect: unprotected-table at 8:14
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
-- public is an application schema too
CREATE TABLE settings (key text PRIMARY KEY, value text);
CREATE TABLE crm.contact_copy AS SELECT * FROM crm.contacts;
-- temporary tables die with the session: not reported
CREATE TEMP TABLE scratch (a int);
-- protected: not reported
CREATE TABLE crm.notes (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.notes', 'crm');
-- the extension's schema is not an application schema
CREATE TABLE tenancy.cache (k text);
