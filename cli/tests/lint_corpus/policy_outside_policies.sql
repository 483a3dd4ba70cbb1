-- expect: policy-outside-policies at 6:1
-- expect: policy-outside-policies at 7:30
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.contacts', 'crm');
DROP POLICY tenancy_select ON crm.contacts;
ALTER POLICY tenancy_rows ON crm.contacts USING (true);
