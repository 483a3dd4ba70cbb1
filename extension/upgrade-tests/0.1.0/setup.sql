-- What a database on release 0.1.0 holds, made with 0.1.0's own API: a module, two tenants
-- (one with a company override), a protected table with rows of both, a role binding.
\set ON_ERROR_STOP 1
SELECT tenancy.install_module('{"key": "notes", "name": "Notes", "version": "1.0.0", "platform": ">=0.1",
    "permissions": ["notes:read", "notes:write"], "config": {"page_size": 20, "colors": {"bg": "white"}},
    "features": {"pinning": true}}');

CREATE SCHEMA upgrade_fixture;
CREATE TABLE upgrade_fixture.notes (
    tenant_id uuid NOT NULL,
    id        bigint GENERATED ALWAYS AS IDENTITY,
    body      text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
SELECT tenancy.protect('upgrade_fixture.notes', 'notes');
GRANT USAGE ON SCHEMA upgrade_fixture TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON upgrade_fixture.notes TO tenant_member;

SELECT tenancy.create_tenant('upgrade-a', 'Upgrade A', 'standard', '{"color": "teal"}', '{notes}');
SELECT tenancy.create_tenant('upgrade-b', 'Upgrade B', 'free', '{}', '{notes}');
SELECT tenancy.enable_module(id, 'notes', '{"page_size": 50}') FROM tenancy.tenants WHERE slug = 'upgrade-a';
SELECT tenancy.set_company_module(tenancy.create_company(id, 'Closed branch'), 'notes', false)
FROM tenancy.tenants WHERE slug = 'upgrade-a';

INSERT INTO upgrade_fixture.notes (tenant_id, body)
SELECT t.id, t.slug || ' note ' || n FROM tenancy.tenants t, generate_series(1, 3) n WHERE t.slug = 'upgrade-a'
UNION ALL
SELECT t.id, t.slug || ' note ' || n FROM tenancy.tenants t, generate_series(1, 2) n WHERE t.slug = 'upgrade-b';

DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_analyst') THEN
        CREATE ROLE upgrade_analyst LOGIN IN ROLE tenant_member;
    END IF;
END $$;
SELECT tenancy.bind_role('upgrade_analyst', id) FROM tenancy.tenants WHERE slug = 'upgrade-b';
