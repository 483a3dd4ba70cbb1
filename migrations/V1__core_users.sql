-- Core: the roles applications use, and the users module every tenant has.
DO $$
BEGIN
    -- tenant_member: what a tenant's people act as (the API switches to it, analysts are
    -- granted it). Its grants cover every application table; the policies decide the rows.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenant_member') THEN
        CREATE ROLE tenant_member NOLOGIN;
    END IF;
END $$;

SELECT tenancy.install_module($${
    "key": "users", "name": "Users", "version": "1.0.0", "platform": ">=0.1",
    "description": "People of the tenant and their profiles", "icon": "users", "core": true, "sort_order": 0,
    "permissions": ["users:read", "users:write"],
    "config": {"default_locale": "en", "allow_avatars": true}
}$$);

CREATE SCHEMA core;
CREATE TABLE core.users (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    email        text NOT NULL CHECK (email LIKE '%@%'),
    display_name text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);
CREATE TABLE core.user_profiles (
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    phone      text,
    avatar_url text,
    locale     text NOT NULL DEFAULT 'en',
    bio        text,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES core.users (tenant_id, id) ON DELETE CASCADE
);
