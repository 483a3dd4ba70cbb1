-- expect: clean
-- A module done right: keys and foreign keys lead with tenant_id, every table protected,
-- an invoker view, a definer function with its search_path pinned, lock-safe changes.
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (
    tenant_id uuid NOT NULL,
    id        uuid NOT NULL DEFAULT gen_random_uuid(),
    email     text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);
CREATE TABLE crm.notes (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    contact_id uuid NOT NULL,
    body       text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES crm.contacts (tenant_id, id)
);
CREATE INDEX ON crm.notes (tenant_id, contact_id);
ALTER TABLE crm.notes ADD COLUMN pinned bool NOT NULL DEFAULT false;
CREATE VIEW crm.contact_emails WITH (security_invoker = true) AS SELECT email FROM crm.contacts;
CREATE FUNCTION crm.note_count() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
    AS $$ SELECT count(*) FROM crm.notes $$;
ALTER TABLE hrms.employees ADD CONSTRAINT employees_user
    FOREIGN KEY (tenant_id, user_id) REFERENCES core.users (tenant_id, id) NOT VALID;
SELECT tenancy.protect('crm.contacts', 'crm');
SELECT tenancy.protect('crm.notes', 'crm');
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA crm TO tenant_member;
