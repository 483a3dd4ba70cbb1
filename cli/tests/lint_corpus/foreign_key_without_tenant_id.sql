-- expect: foreign-key-without-tenant-id at 9:21
-- expect: foreign-key-without-tenant-id at 12:5
-- expect: foreign-key-without-tenant-id at 15:27
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE crm.notes (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    contact_id uuid REFERENCES crm.contacts,
    other_id   uuid,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, other_id) REFERENCES crm.contacts (id, tenant_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES crm.contacts (tenant_id, id)
);
ALTER TABLE crm.notes ADD FOREIGN KEY (other_id) REFERENCES crm.contacts (id);
SELECT tenancy.protect('crm.contacts', 'crm');
SELECT tenancy.protect('crm.notes', 'crm');
