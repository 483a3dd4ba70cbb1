-- A refresh costs no more than a REST read (issue 13), after V17. What V17's auth.refresh still
-- spent beyond its writes, measured against variants of it (pgbench, and bench/sign_in.sh with
-- the two servers taking turns): building the claims and GoTrue's user object as jsonb (which
-- the server parsed back), an UPDATE marking the spent token beside the session's, and the
-- foreign key check of the token it inserts. Now:
-- * auth.refresh answers in typed columns; the server writes GoTrue's JSON from them;
-- * a session names its one live refresh token (sessions.live_digest): the UPDATE of the session
--   that records the rotation is the one that claims it (of two refreshes with one token the
--   second waits for the first, finds another live token and ends the family, as before), and a
--   token row is written once, when issued. Every token of a session but the live one is spent;
-- * no foreign key check on each token issued: a trigger deletes a deleted session's tokens.
-- Same checks, same answers, same SQLSTATEs; the claims are read fresh at every refresh (a
-- removed membership or role, a suspended tenant, a disabled person take effect at the next one).
SET LOCAL ROLE tenancy_auth_owner;

ALTER TABLE auth.sessions ADD COLUMN live_digest bytea;
COMMENT ON COLUMN auth.sessions.live_digest IS 'SHA-256 of the one refresh token that may be spent now; the session''s other tokens (auth.refresh_tokens) are spent.';
UPDATE auth.sessions s SET live_digest = r.digest FROM auth.refresh_tokens r WHERE r.session_id = s.id AND r.spent_at IS NULL;
-- Safe to drop: only auth.refresh and auth._refresh_refused read or wrote it, both replaced below in this transaction; the server of this release is their one caller
ALTER TABLE auth.refresh_tokens DROP COLUMN spent_at;
COMMENT ON TABLE auth.refresh_tokens IS 'SHA-256 of each refresh token a session was given; all but its live_digest are spent: one presented again ends its session.';

-- A deleted session's refresh tokens go with it (auth.forget, and an identity's or a tenant's
-- deletion cascading to its sessions), by a trigger instead of the foreign key: the key's check
-- of every token issued (a queued trigger, its query, a lock on the session's row written to the
-- WAL) cost about 3% of a refresh (8 µs here), and only the functions here insert tokens, each for the
-- session they have just made or locked. A token whose session is gone is refused anyway (TA007).
ALTER TABLE auth.refresh_tokens DROP CONSTRAINT refresh_tokens_session_id_fkey;
CREATE FUNCTION auth._forget_tokens() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM auth.refresh_tokens r USING deleted d WHERE r.session_id = d.id;
    RETURN NULL;
END $$;
CREATE TRIGGER forget_tokens AFTER DELETE ON auth.sessions REFERENCING OLD TABLE AS deleted
FOR EACH STATEMENT EXECUTE FUNCTION auth._forget_tokens();

-- An identity's fields as columns (GoTrue's user object is made of them), with its tenants in
-- the order joined. Unused columns of a view cost nothing: a query naming none of the tenants
-- does not run their sub-query.
CREATE VIEW auth.identity_parts WITH (security_invoker = true) AS
SELECT i.id AS identity_id, i.email, i.status, i.user_metadata, i.created_at, i.updated_at, i.last_sign_in_at,
       ARRAY(SELECT m.tenant FROM auth.memberships m WHERE m.identity_id = i.id ORDER BY m.created_at) AS tenants
FROM auth.identities i;

CREATE OR REPLACE VIEW auth.identity_objects WITH (security_invoker = true) AS
SELECT p.identity_id,
       jsonb_build_object('id', p.identity_id, 'email', p.email, 'user_metadata', p.user_metadata,
           'created_at', p.created_at, 'updated_at', p.updated_at, 'last_sign_in_at', p.last_sign_in_at,
           'tenants', to_jsonb(p.tenants)) AS object
FROM auth.identity_parts p;

-- A member's grant in a tenant as columns: what may refuse it (the person disabled, the tenant
-- suspended), the token's claims and the user's fields. No row: not a member.
CREATE VIEW auth.grant_parts WITH (security_invoker = true) AS
SELECT ms.identity_id, ms.tenant, ms.company, u.status AS identity_status, t.status AS tenant_status,
       ARRAY(SELECT r.role_name FROM tenancy.tenant_role_members r
             WHERE r.tenant_id = ms.tenant AND r.member = ms.identity_id::text ORDER BY 1) AS tenant_roles,
       u.email, u.user_metadata, u.created_at, u.updated_at, u.last_sign_in_at, u.tenants
FROM auth.memberships ms
JOIN tenancy.tenants t ON t.id = ms.tenant
JOIN auth.identity_parts u ON u.identity_id = ms.identity_id;

-- V17's claims (sign-in, sign-up, the session checks), now from the parts.
CREATE OR REPLACE VIEW auth.grants WITH (security_invoker = true) AS
SELECT g.identity_id, g.tenant, g.identity_status, g.tenant_status,
       jsonb_build_object('tenant_id', g.tenant, 'company_id', g.company, 'tenant_roles', g.tenant_roles,
           'user', u.object) AS claims
FROM auth.grant_parts g
JOIN auth.identity_objects u ON u.identity_id = g.identity_id;

-- A session begins with its first refresh token live.
CREATE OR REPLACE FUNCTION auth._open_session(identity uuid, tenant uuid, refresh_digest bytea, user_agent text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    granted jsonb := auth._grant(identity, tenant);
    session uuid;
BEGIN
    INSERT INTO auth.sessions (identity_id, tenant, user_agent, live_digest)
    VALUES (identity, tenant, left(user_agent, 512), refresh_digest)
    RETURNING id INTO session;
    INSERT INTO auth.refresh_tokens (digest, session_id) VALUES (refresh_digest, session);
    UPDATE auth.identities SET last_sign_in_at = now(), last_tenant = tenant WHERE id = identity;
    RETURN granted || jsonb_build_object('session_id', session, 'user', auth._identity_json(identity));
END $$;

-- A refresh token that is not live: unknown (TA005), of an ended session (TA007), or spent,
-- which ends its session: 'reused'.
DROP FUNCTION auth._refresh_refused(bytea);
CREATE FUNCTION auth._refresh_refused(spent_digest bytea) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    spent_session uuid;
BEGIN
    SELECT r.session_id INTO spent_session FROM auth.refresh_tokens r WHERE r.digest = spent_digest;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refresh token not found' USING ERRCODE = 'TA005';
    END IF;
    -- A spent token again: it was stolen or copied. End the whole family.
    UPDATE auth.sessions SET ended_at = now(), ended_why = 'refresh token reused'
    WHERE id = spent_session AND ended_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session ended' USING ERRCODE = 'TA007';
    END IF;
    RETURN 'reused';
END $$;

-- The refresh: one row. refused is 'reused' (a spent token came back: its session is now
-- ended) or 'ended' (the membership is gone, so is the session), and the caller reads nothing
-- else; or NULL, and the row is the grant: role (platform_admin for a platform account's session, V16; NULL for a member's),
-- the tenant claims and the user's fields. The caller raises refresh_token_already_used and
-- tenant_not_allowed for 'reused' and 'ended' after they committed; every error leaves
-- nothing spent (the transaction rolls back).
DROP FUNCTION auth.refresh(bytea, bytea, uuid);
CREATE FUNCTION auth.refresh(spent_digest bytea, new_digest bytea, wanted uuid,
    OUT refused text, OUT session_id uuid, OUT role text, OUT tenant_id uuid, OUT company_id uuid,
    OUT tenant_roles text[], OUT user_id uuid, OUT email text, OUT user_metadata jsonb,
    OUT created_at timestamptz, OUT updated_at timestamptz, OUT last_sign_in_at timestamptz, OUT tenants uuid[])
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    -- Not waiting for the WAL flush (V17, see the README). (An initializer is evaluated
    -- without the executor a PERFORM starts.)
    commit_mode text := set_config('synchronous_commit', 'off', true);
    s auth.sessions;
    identity_status text;
    tenant_status text;
BEGIN
    -- The token's session by its primary key (a join would let the planner scan sessions for
    -- the digest while the table is small).
    UPDATE auth.sessions x SET live_digest = new_digest, refreshed_at = now()
    WHERE x.id = (SELECT r.session_id FROM auth.refresh_tokens r WHERE r.digest = spent_digest)
      AND x.live_digest = spent_digest AND x.ended_at IS NULL
    RETURNING * INTO s;
    IF NOT FOUND THEN
        refused := auth._refresh_refused(spent_digest);
        RETURN;
    END IF;
    IF s.tenant IS NULL AND wanted IS NULL THEN
        -- A platform account's session (V16), in no tenant: auth._grant refuses (no longer a
        -- platform account, disabled) and nothing is spent.
        PERFORM auth._grant(s.identity_id, NULL);
        role := 'platform_admin';
        SELECT u.email, u.user_metadata, u.created_at, u.updated_at, u.last_sign_in_at, u.tenants
        INTO email, user_metadata, created_at, updated_at, last_sign_in_at, tenants
        FROM auth.identity_parts u WHERE u.identity_id = s.identity_id;
        tenant_roles := '{}';
    ELSE
        SELECT g.tenant, g.company, g.identity_status, g.tenant_status, g.tenant_roles,
               g.email, g.user_metadata, g.created_at, g.updated_at, g.last_sign_in_at, g.tenants
        INTO tenant_id, company_id, identity_status, tenant_status, tenant_roles,
             email, user_metadata, created_at, updated_at, last_sign_in_at, tenants
        FROM auth.grant_parts g WHERE g.identity_id = s.identity_id AND g.tenant = coalesce(wanted, s.tenant);
        IF NOT FOUND OR identity_status <> 'active' OR tenant_status <> 'active' THEN
            -- Membership removed (or the person disabled) since the last refresh: the session ends.
            IF coalesce(identity_status, 'not a member') <> 'active' AND (wanted IS NULL OR wanted = s.tenant) THEN
                UPDATE auth.sessions SET ended_at = now(), ended_why = 'membership removed' WHERE id = s.id;
                refused := 'ended';
                RETURN;
            END IF;
            -- Another tenant refused, or a suspended one: _grant says which, and nothing is spent.
            PERFORM auth._grant(s.identity_id, coalesce(wanted, s.tenant));
        END IF;
        IF wanted IS NOT NULL THEN
            UPDATE auth.sessions SET tenant = wanted WHERE id = s.id AND tenant <> wanted;
            UPDATE auth.identities SET last_tenant = wanted WHERE id = s.identity_id;
        END IF;
    END IF;
    INSERT INTO auth.refresh_tokens (digest, session_id) VALUES (new_digest, s.id);
    session_id := s.id;
    user_id := s.identity_id;
END $$;
COMMENT ON FUNCTION auth.refresh(bytea, bytea, uuid) IS 'Spends a refresh token for a new one: the grant as columns (for this or another tenant of the identity''s). refused ''reused'': a spent token came back and its session is now ended; ''ended'': the membership is gone, so is the session. TA005/TA007/TA001/TA002/TA010.';

RESET ROLE;
REVOKE ALL ON auth.identity_parts, auth.grant_parts FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION auth._forget_tokens(), auth._refresh_refused(bytea), auth.refresh(bytea, bytea, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.refresh(bytea, bytea, uuid) TO authenticator;
