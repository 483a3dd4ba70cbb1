-- The tenancy catalog: who the tenants are, what they bought, who may act for them.
-- Only the extension's own functions touch these tables; nobody else is granted them.

DO $$
BEGIN
    -- Roles are cluster-wide: another database may already have made them.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_service') THEN
        CREATE ROLE tenancy_service NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_admin') THEN
        CREATE ROLE tenancy_admin NOLOGIN;
    END IF;
END $$;
COMMENT ON ROLE tenancy_service IS 'Members may enter any tenant for one transaction (tenancy.enter_tenant): the API server''s login role.';
COMMENT ON ROLE tenancy_admin IS 'Members may administer tenants, companies, modules and role bindings.';

CREATE TABLE tenancy.plans (
    key  text PRIMARY KEY,
    name text NOT NULL,
    rank int  NOT NULL UNIQUE
);
COMMENT ON TABLE tenancy.plans IS 'Subscription tiers, ordered by rank: a module requiring a tier needs a plan of at least that rank.';
INSERT INTO tenancy.plans (key, name, rank) VALUES
    ('free', 'Free', 0), ('standard', 'Standard', 10), ('premium', 'Premium', 20), ('enterprise', 'Enterprise', 30);

CREATE TABLE tenancy.tenants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug          text NOT NULL UNIQUE,
    name          text NOT NULL CHECK (btrim(name) <> ''),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    plan          text NOT NULL DEFAULT 'free' REFERENCES tenancy.plans (key),
    theme         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(theme) = 'object'),
    contact_email text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenancy.tenants IS 'One row per tenant; slug is its subdomain.';

CREATE TABLE tenancy.companies (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
);
COMMENT ON TABLE tenancy.companies IS 'The level under a tenant: its companies, schools or branches.';

CREATE TABLE tenancy.modules (
    key               text PRIMARY KEY,
    name              text NOT NULL,
    description       text,
    icon              text,
    is_core           bool NOT NULL DEFAULT false,
    sort_order        int NOT NULL DEFAULT 0,
    version           text NOT NULL,
    platform          text NOT NULL,
    required_tier     text REFERENCES tenancy.plans (key),
    requires          text[] NOT NULL DEFAULT '{}',
    permissions       text[] NOT NULL DEFAULT '{}',
    config_defaults   jsonb NOT NULL DEFAULT '{}',
    features          jsonb NOT NULL DEFAULT '{}',
    manifest          jsonb NOT NULL,
    installed_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenancy.modules IS 'The module registry, one row per installed manifest.';

CREATE TABLE tenancy.tenant_modules (
    tenant_id  uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    module     text NOT NULL REFERENCES tenancy.modules (key),
    enabled    bool NOT NULL DEFAULT true,
    enabled_at timestamptz NOT NULL DEFAULT now(),
    config     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    PRIMARY KEY (tenant_id, module)
);
COMMENT ON TABLE tenancy.tenant_modules IS 'Which modules a tenant has enabled, with its configuration over the module defaults.';

CREATE TABLE tenancy.company_modules (
    company_id        uuid NOT NULL REFERENCES tenancy.companies (id) ON DELETE CASCADE,
    module            text NOT NULL REFERENCES tenancy.modules (key),
    enabled           bool NOT NULL DEFAULT true,
    config            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    enabled_features  text[],
    disabled_features text[],
    PRIMARY KEY (company_id, module)
);
COMMENT ON TABLE tenancy.company_modules IS 'Company-level overrides: a module switched off for one company, configuration and features.';

CREATE TABLE tenancy.role_bindings (
    role      regrole NOT NULL,
    tenant_id uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    bound_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, tenant_id)
);
COMMENT ON TABLE tenancy.role_bindings IS 'Login roles (analysts) and the tenants they act for without calling enter_tenant.';

-- On Citus: the tenant a role bound to several chose with use_tenant, by the coordinator session
-- that chose it (Citus's global pid, which the workers serving that session see as theirs), so a
-- worker resolves a lone statement's binding as the coordinator does. Empty on one node.
CREATE TABLE tenancy.tenant_choices (
    role      regrole NOT NULL,
    gpid      bigint NOT NULL,
    tenant_id uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    chosen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, gpid)
);
COMMENT ON TABLE tenancy.tenant_choices IS 'On Citus: the tenant each coordinator session of a role bound to several tenants chose (use_tenant), for the workers serving that session.';

CREATE TABLE tenancy.protected_tables (
    tbl          regclass PRIMARY KEY,
    module       text REFERENCES tenancy.modules (key),
    policy_check text NOT NULL,
    protected_at timestamptz NOT NULL DEFAULT now(),
    write_check  text
);
COMMENT ON TABLE tenancy.protected_tables IS 'Tables made tenant-owned by tenancy.protect, their module, and the policy expressions it installed (to detect tampering): policy_check, and write_check for writes when they need a permission too.';

CREATE TABLE tenancy.events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor     text NOT NULL DEFAULT session_user,
    action    text NOT NULL,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ON tenancy.events (tenant_id, at);
COMMENT ON TABLE tenancy.events IS 'Append-only log of what changed: who, when, which tenant, what.';

CREATE FUNCTION tenancy._events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    RAISE EXCEPTION 'tenancy.events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'TN050', HINT = 'Events record history; add a new event instead.';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON tenancy.events
    FOR EACH ROW EXECUTE FUNCTION tenancy._events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON tenancy.events
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._events_append_only();

CREATE FUNCTION tenancy._record(tenant uuid, action text, detail jsonb DEFAULT '{}')
RETURNS void LANGUAGE sql AS $$
    INSERT INTO tenancy.events (tenant_id, action, detail) VALUES (tenant, action, detail);
$$;

-- pg_dump leaves an extension's tables out unless they are marked: the catalog is the
-- platform's data, so a backup must carry it (the seeded plans come with the extension).
SELECT pg_catalog.pg_extension_config_dump('tenancy.plans', $$WHERE key NOT IN ('free', 'standard', 'premium', 'enterprise')$$);
-- one call per statement: each rewrites the extension's row
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.companies', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.company_modules', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.role_bindings', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_tables', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.events', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.events_id_seq', '');
