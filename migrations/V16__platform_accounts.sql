-- Platform accounts and the server's status (issue 15).
-- * A platform account is an identity of schema auth (V13) that signs in at /auth/v1 like
--   anyone, belongs to no tenant, and whose access token carries role platform_admin (the role
--   V8's platform API is granted to) and no tenant claims. Only the database owner makes one
--   (auth.add_platform_admin): sign-up makes tenant members, invitations join tenants, and a
--   platform account can never become a member of a tenant (TA012), so no request to /auth/v1
--   can make or become one.
-- * platform.replication_slots: the database's logical replication slots (the real-time
--   servers' among them) with how far each has confirmed, for the platform administrator's
--   status page (GET /platform/v1/status), which reads it as the caller's role: PostgreSQL
--   decides who may see it.
-- SQLSTATE TA012 (class TA, V13): a platform account cannot join a tenant, nor a member
-- become a platform account.

SET LOCAL ROLE tenancy_auth_owner;

-- tenancy-lint: allow unprotected-table -- the platform's sign-in data, readable by no role but its owner
CREATE TABLE auth.platform_admins (
    identity_id uuid PRIMARY KEY REFERENCES auth.identities (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE auth.platform_admins IS 'Identities that sign in as the platform administrator (role platform_admin, no tenant); made by the database owner only.';

-- A platform account's sessions are in no tenant.
ALTER TABLE auth.sessions ALTER COLUMN tenant DROP NOT NULL;

-- Whatever joins a tenant (sign-up, an invitation, add_member) passes here: a platform
-- account is refused, so its token can never carry a tenant.
CREATE FUNCTION auth._no_platform_member() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT FROM auth.platform_admins p WHERE p.identity_id = NEW.identity_id) THEN
        RAISE EXCEPTION 'a platform account cannot join a tenant' USING ERRCODE = 'TA012';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER no_platform_member BEFORE INSERT OR UPDATE ON auth.memberships
FOR EACH ROW EXECUTE FUNCTION auth._no_platform_member();

-- What a platform account's token says: role platform_admin, no tenant. TA010 when disabled.
CREATE FUNCTION auth._platform_grant(identity uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF EXISTS (SELECT FROM auth.identities i WHERE i.id = identity AND i.status <> 'active') THEN
        RAISE EXCEPTION 'this user is disabled' USING ERRCODE = 'TA010';
    END IF;
    RETURN jsonb_build_object('role', 'platform_admin', 'tenant_id', NULL, 'company_id', NULL,
        'tenant_roles', '[]'::jsonb, 'user', auth._identity_json(identity));
END $$;

-- V13's grant becomes the members' one; auth._grant (which sign-in, refresh and the session
-- checks call by name) now asks first whether the identity is a platform account asking for no
-- tenant. Everyone else, and a platform account asking for a tenant (TA001), as before.
ALTER FUNCTION auth._grant(uuid, uuid) RENAME TO _member_grant;
CREATE FUNCTION auth._grant(identity uuid, wanted uuid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN wanted IS NULL AND EXISTS (SELECT FROM auth.platform_admins p WHERE p.identity_id = identity)
                THEN auth._platform_grant(identity)
                ELSE auth._member_grant(identity, wanted) END;
$$;

CREATE FUNCTION auth.add_platform_admin(email text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    identity uuid;
BEGIN
    INSERT INTO auth.identities (email) VALUES (lower(btrim(email))) ON CONFLICT ON CONSTRAINT identities_email_key DO NOTHING;
    SELECT i.id INTO identity FROM auth.identities i WHERE i.email = lower(btrim(add_platform_admin.email));
    IF EXISTS (SELECT FROM auth.memberships m WHERE m.identity_id = identity) THEN
        RAISE EXCEPTION 'a member of a tenant cannot be a platform account' USING ERRCODE = 'TA012',
            HINT = 'Use another email address for the platform administrator.';
    END IF;
    INSERT INTO auth.platform_admins (identity_id) VALUES (identity) ON CONFLICT DO NOTHING;
    RETURN identity;
END $$;
COMMENT ON FUNCTION auth.add_platform_admin(text) IS 'Makes an email (a new identity without password if unknown) a platform account: it signs in as platform_admin, in no tenant; its id. TA012 for a tenant member. For the database owner (then auth.set_password_hash).';

CREATE FUNCTION auth.remove_platform_admin(identity uuid) RETURNS bool
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE auth.sessions SET ended_at = now(), ended_why = 'platform account removed'
    WHERE identity_id = identity AND tenant IS NULL AND ended_at IS NULL;
    DELETE FROM auth.platform_admins p WHERE p.identity_id = identity RETURNING true;
$$;
COMMENT ON FUNCTION auth.remove_platform_admin(uuid) IS 'Ends a platform account and its sessions at once (their access tokens last until they expire); the identity stays. For the database owner.';

RESET ROLE;
REVOKE EXECUTE ON FUNCTION auth._no_platform_member(), auth._platform_grant(uuid), auth._grant(uuid, uuid),
    auth.add_platform_admin(text),
    auth.remove_platform_admin(uuid) FROM PUBLIC;
-- add_platform_admin and remove_platform_admin: for the database owner only, as add_member
-- (not tenancy_admin: platform_admin, a request's role, is its member).

-- The slots this database streams from; lag_bytes: WAL written since the slot's client last
-- confirmed (what a stalled real-time server makes the database keep).
CREATE VIEW platform.replication_slots AS
SELECT s.slot_name, s.plugin, s.active, s.active_pid, s.restart_lsn::text, s.confirmed_flush_lsn::text,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS lag_bytes, s.wal_status
FROM pg_replication_slots s
WHERE s.slot_type = 'logical' AND s.database = current_database();
COMMENT ON VIEW platform.replication_slots IS 'Logical replication slots of this database and their lag, for the platform administrator.';
REVOKE ALL ON platform.replication_slots FROM PUBLIC;
GRANT SELECT ON platform.replication_slots TO platform_admin;
