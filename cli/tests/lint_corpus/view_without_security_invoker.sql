-- expect: view-without-security-invoker at 6:13
-- expect: view-without-security-invoker at 7:13
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, name text, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.contacts', 'crm');
CREATE VIEW crm.contact_names AS SELECT name FROM crm.contacts;
CREATE VIEW crm.counts WITH (security_invoker = false) AS
    SELECT count(*) FROM (SELECT 1 FROM crm.contacts c WHERE c.name IS NOT NULL) s;
CREATE VIEW crm.safe_names WITH (security_invoker = true) AS SELECT name FROM crm.contacts;
CREATE VIEW crm.today AS SELECT current_date AS day;
