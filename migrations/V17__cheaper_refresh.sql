-- A refresh costs no more than a REST read (issue 13). What V13's auth.refresh spent its time
-- on, measured with pgbench: auth._identity_json, a LANGUAGE sql function with a SET clause, is
-- never inlined, so PostgreSQL parsed and planned its query on every call (0.09 ms of a 0.2 ms
-- _grant); two row locks taken before the same rows were written; an EXCEPTION block, a
-- subtransaction per refresh, around _grant; and each nested PL/pgSQL call. The user object and
-- a token's claims are now views, which the functions' cached plans inline, and auth.refresh
-- reads them in the same statement that checks the membership. Same answers, same SQLSTATEs.
SET LOCAL ROLE tenancy_auth_owner;

-- The identity as the API shows it (GoTrue's user object is built from it).
CREATE VIEW auth.identity_objects WITH (security_invoker = true) AS
SELECT i.id AS identity_id,
       jsonb_build_object('id', i.id, 'email', i.email, 'user_metadata', i.user_metadata,
           'created_at', i.created_at, 'updated_at', i.updated_at, 'last_sign_in_at', i.last_sign_in_at,
           'tenants', coalesce((SELECT jsonb_agg(m.tenant ORDER BY m.created_at) FROM auth.memberships m
                                WHERE m.identity_id = i.id), '[]')) AS object
FROM auth.identities i;

-- What a token for a member in a tenant says (the claims tenancy reads, and the user), with
-- what may refuse it: the person disabled, the tenant suspended. No row: not a member.
CREATE VIEW auth.grants WITH (security_invoker = true) AS
SELECT ms.identity_id, ms.tenant, i.status AS identity_status, t.status AS tenant_status,
       jsonb_build_object('tenant_id', ms.tenant, 'company_id', ms.company,
           'tenant_roles', ARRAY(SELECT r.role_name FROM tenancy.tenant_role_members r
                                 WHERE r.tenant_id = ms.tenant AND r.member = ms.identity_id::text ORDER BY 1),
           'user', u.object) AS claims
FROM auth.memberships ms
JOIN tenancy.tenants t ON t.id = ms.tenant
JOIN auth.identities i ON i.id = ms.identity_id
JOIN auth.identity_objects u ON u.identity_id = ms.identity_id;

-- PL/pgSQL keeps the query's plan for the session.
CREATE OR REPLACE FUNCTION auth._identity_json(identity uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    RETURN (SELECT u.object FROM auth.identity_objects u WHERE u.identity_id = identity);
END $$;

-- A member's grant (auth._grant asks it for everyone but a platform account, V16): TA001 when
-- not a member, TA002 when the tenant is suspended, TA010 when the identity is disabled.
CREATE OR REPLACE FUNCTION auth._member_grant(identity uuid, wanted uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    g record;
BEGIN
    SELECT * INTO g FROM auth.grants x WHERE x.identity_id = identity AND x.tenant = wanted;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not a member of this tenant' USING ERRCODE = 'TA001';
    ELSIF g.identity_status <> 'active' THEN
        RAISE EXCEPTION 'this user is disabled' USING ERRCODE = 'TA010';
    ELSIF g.tenant_status <> 'active' THEN
        RAISE EXCEPTION 'the tenant is suspended' USING ERRCODE = 'TA002';
    END IF;
    RETURN g.claims;
END $$;

-- Rotation is claimed by the UPDATE that spends the token: of two refreshes with one token the
-- second waits for the first, finds it spent and ends the family, as before. Every error leaves
-- nothing spent (the transaction rolls back); the caller raises refresh_token_already_used and
-- tenant_not_allowed from {"reused"} and {"ended"} after they committed.
CREATE OR REPLACE FUNCTION auth.refresh(spent_digest bytea, new_digest bytea, wanted uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    -- Not waiting for the WAL flush: a crash can lose the last rotations (their clients sign
    -- in again, see the README), never grant anything. (An initializer is evaluated without
    -- the executor a PERFORM starts.)
    commit_mode text := set_config('synchronous_commit', 'off', true);
    spent_session uuid;
    s auth.sessions;
    g record;
BEGIN
    UPDATE auth.refresh_tokens r SET spent_at = now() WHERE r.digest = spent_digest AND r.spent_at IS NULL
    RETURNING r.session_id INTO spent_session;
    IF NOT FOUND THEN
        RETURN auth._refresh_refused(spent_digest);
    END IF;
    UPDATE auth.sessions x SET refreshed_at = now() WHERE x.id = spent_session AND x.ended_at IS NULL
    RETURNING * INTO s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session ended' USING ERRCODE = 'TA007';
    END IF;
    IF s.tenant IS NULL AND wanted IS NULL THEN
        -- A platform account's session (V16), in no tenant: auth._grant gives its claims, or
        -- refuses (no longer a platform account, disabled) and nothing is spent.
        INSERT INTO auth.refresh_tokens (digest, session_id) VALUES (new_digest, s.id);
        RETURN auth._grant(s.identity_id, NULL) || jsonb_build_object('session_id', s.id);
    END IF;
    SELECT * INTO g FROM auth.grants x WHERE x.identity_id = s.identity_id AND x.tenant = coalesce(wanted, s.tenant);
    IF NOT FOUND OR g.identity_status <> 'active' OR g.tenant_status <> 'active' THEN
        -- Membership removed (or the person disabled) since the last refresh: the session ends.
        IF coalesce(g.identity_status, 'not a member') <> 'active' AND (wanted IS NULL OR wanted = s.tenant) THEN
            UPDATE auth.sessions SET ended_at = now(), ended_why = 'membership removed' WHERE id = s.id;
            RETURN jsonb_build_object('ended', true);
        END IF;
        -- Another tenant refused, or a suspended one: _grant says which, and nothing is spent.
        PERFORM auth._grant(s.identity_id, coalesce(wanted, s.tenant));
    END IF;
    INSERT INTO auth.refresh_tokens (digest, session_id) VALUES (new_digest, s.id);
    IF wanted IS NOT NULL THEN
        UPDATE auth.sessions SET tenant = wanted WHERE id = s.id AND tenant <> wanted;
        UPDATE auth.identities SET last_tenant = wanted WHERE id = s.identity_id;
    END IF;
    RETURN g.claims || jsonb_build_object('session_id', s.id);
END $$;

-- A refresh token that is not live: unknown (TA005), of an ended session (TA007), or spent,
-- which ends its session: {"reused": true}.
CREATE FUNCTION auth._refresh_refused(spent_digest bytea) RETURNS jsonb
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
    RETURN jsonb_build_object('reused', true);
END $$;

RESET ROLE;
REVOKE ALL ON auth.identity_objects, auth.grants FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION auth._refresh_refused(bytea) FROM PUBLIC;
