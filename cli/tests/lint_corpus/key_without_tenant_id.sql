-- expect: key-without-tenant-id at 8:20
-- expect: key-without-tenant-id at 10:5
-- expect: key-without-tenant-id at 15:26
-- expect: key-without-tenant-id at 16:34
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (
    tenant_id uuid NOT NULL,
    id        uuid PRIMARY KEY,
    email     text,
    UNIQUE (email)
);
SELECT tenancy.protect('crm.contacts', 'crm');
CREATE TABLE crm.tags (tenant_id uuid NOT NULL, id int, name text, UNIQUE (tenant_id, name));
SELECT tenancy.protect('crm.tags', 'crm');
ALTER TABLE crm.tags ADD CONSTRAINT tags_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX tags_name ON crm.tags (lower(name));
CREATE UNIQUE INDEX tags_tenant_name ON crm.tags (tenant_id, lower(name));
