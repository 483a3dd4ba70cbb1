-- expect: column-without-analytics-class at 11:34
-- A table whose tenancy.protect declares analytics classes is read by tenancy.aggregate; a
-- column added to it without a class stays private (safe), and the warning says to classify it.
CREATE SCHEMA crm;
CREATE TABLE crm.deals (tenant_id uuid NOT NULL, id uuid NOT NULL, stage text, amount numeric, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.deals', 'crm', analytics => '{"stage": "dimension", "amount": "measure",
    "region": "dimension", "closed_on": {"class": "measure", "extremes": true, "reason": "quarter ends"}}'::jsonb);
-- declared (in a policies/ file the same run applies): nothing to say
ALTER TABLE crm.deals ADD COLUMN region text, ADD COLUMN closed_on date;
-- not declared: private until classified
ALTER TABLE crm.deals ADD COLUMN contact_email text;
-- a table without declarations is not read by analytics
CREATE TABLE crm.notes (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('crm.notes', 'crm');
ALTER TABLE crm.notes ADD COLUMN body text;
