-- expect: syntax-error at 6:22
-- expect: unprotected-table at 10:14
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,,
    PRIMARY KEY (tenant_id, id)
);
-- the rest of the file is still checked
CREATE TABLE crm.notes (id int);
