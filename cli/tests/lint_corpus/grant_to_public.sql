-- expect: grant-to-public at 6:17
-- expect: grant-to-public at 7:1
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.contacts', 'crm');
GRANT SELECT ON crm.contacts TO PUBLIC;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA crm TO tenant_member, PUBLIC;
GRANT USAGE ON SCHEMA crm TO PUBLIC;
GRANT SELECT ON crm.contacts TO tenant_member;
