-- expect: restrictive-policy at 7:28
-- A restrictive policy narrows on one node and widens on Citus's shards; a permissive one is
-- not this rule's concern.
CREATE SCHEMA crm;
CREATE TABLE crm.notes (tenant_id uuid NOT NULL, id uuid NOT NULL, body text, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.notes', 'crm');
CREATE POLICY no_drafts ON crm.notes AS RESTRICTIVE USING (body <> 'draft');
CREATE POLICY published ON crm.notes AS PERMISSIVE USING (body <> 'draft');
