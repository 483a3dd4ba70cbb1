-- Sign-in (issue 13): identities, their memberships of tenants, sessions, refresh tokens,
-- invitations, recovery codes and each tenant's sign-up mode, for the API's /auth/v1.
-- The schema and its tables belong to tenancy_auth_owner (NOLOGIN) and no other role may read
-- them; the API's login role (authenticator) reaches them only through the SECURITY DEFINER
-- functions below (pinned search_path), before it switches to a request's role, which cannot.
-- Columns name the tenant `tenant`, not `tenant_id`: these are the platform's rows about
-- tenants, not a tenant's rows (no RLS; nothing here is exposed over REST).
-- Secrets are never stored: passwords as argon2id hashes (made by the API), refresh tokens,
-- invitation and recovery codes as SHA-256 digests.
-- SQLSTATEs (class TA): TA001 not a member of the tenant, TA002 the tenant is suspended,
-- TA003 email already registered, TA004 sign-up closed for the tenant, TA005 refresh token
-- unknown, TA006 refresh token already used (the session is revoked), TA007 session ended,
-- TA008 code invalid or expired, TA009 not a tenant admin, TA010 identity disabled,
-- TA011 unknown tenant role.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_auth_owner') THEN
        CREATE ROLE tenancy_auth_owner NOLOGIN;
    END IF;
    -- The API's login role (PostgREST's idiom, as demo.sql makes it): the one grantee below.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
END $$;
COMMENT ON ROLE tenancy_auth_owner IS 'Owns schema auth (sign-in): its tables are readable by no other role.';
-- Memberships follow tenants (cascade) and tenant roles are granted with the extension's functions.
GRANT SELECT, REFERENCES ON tenancy.tenants, tenancy.companies TO tenancy_auth_owner;
GRANT SELECT ON tenancy.tenant_roles, tenancy.tenant_role_members TO tenancy_auth_owner;
GRANT tenancy_admin TO tenancy_auth_owner;

CREATE SCHEMA auth AUTHORIZATION tenancy_auth_owner;
REVOKE ALL ON SCHEMA auth FROM PUBLIC;
SET LOCAL ROLE tenancy_auth_owner;

-- tenancy-lint: allow unprotected-table -- the platform's sign-in data, readable by no role but its owner
CREATE TABLE auth.identities (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '_%@_%'),
    password_hash   text,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    user_metadata   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(user_metadata) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz,
    last_tenant     uuid
);
COMMENT ON TABLE auth.identities IS 'A person on the platform: one email, one password (argon2id hash), any number of tenants.';

-- tenancy-lint: allow unprotected-table -- the platform's sign-in data, readable by no role but its owner
CREATE TABLE auth.memberships (
    identity_id uuid NOT NULL REFERENCES auth.identities (id) ON DELETE CASCADE,
    tenant      uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    company     uuid REFERENCES tenancy.companies (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (identity_id, tenant)
);
CREATE INDEX memberships_tenant ON auth.memberships (tenant);
COMMENT ON TABLE auth.memberships IS 'Who may sign in to which tenant (and company); tenant roles are tenancy.tenant_role_members of the identity id.';

-- tenancy-lint: allow unprotected-table -- the platform's sign-in data, readable by no role but its owner
CREATE TABLE auth.signup_modes (
    tenant       uuid PRIMARY KEY REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    mode         text NOT NULL CHECK (mode IN ('invite', 'open')),
    default_role text NOT NULL
);
COMMENT ON TABLE auth.signup_modes IS 'A tenant open to sign-up, and the tenant role a newcomer gets; absent: invitation only.';

-- tenancy-lint: allow unprotected-table -- the platform's sign-in data, readable by no role but its owner
CREATE TABLE auth.sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    identity_id  uuid NOT NULL REFERENCES auth.identities (id) ON DELETE CASCADE,
    tenant       uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    ended_why    text,
    user_agent   text
);
CREATE INDEX sessions_identity ON auth.sessions (identity_id) WHERE ended_at IS NULL;
COMMENT ON TABLE auth.sessions IS 'A sign-in and its chain of refresh tokens (one family); ended by sign-out, revocation or refresh-token reuse.';

-- tenancy-lint: allow unprotected-table -- the platform's sign-in data, readable by no role but its owner
CREATE TABLE auth.refresh_tokens (
    digest     bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    spent_at   timestamptz
);
CREATE INDEX refresh_tokens_session ON auth.refresh_tokens (session_id);
COMMENT ON TABLE auth.refresh_tokens IS 'SHA-256 of each refresh token; spent once used: a spent one presented again ends its session.';

-- tenancy-lint: allow unprotected-table -- the platform's sign-in data, readable by no role but its owner
CREATE TABLE auth.codes (
    digest      bytea PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('invite', 'recovery')),
    email       text NOT NULL,
    tenant      uuid REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    roles       text[] NOT NULL DEFAULT '{}',
    invited_by  uuid REFERENCES auth.identities (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX codes_email ON auth.codes (email, kind);
COMMENT ON TABLE auth.codes IS 'One-time codes mailed to an address: an invitation to a tenant (with its roles) or a password recovery.';

-- The identity as the API shows it (GoTrue's user object is built from it).
CREATE FUNCTION auth._identity_json(identity uuid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object('id', i.id, 'email', i.email, 'user_metadata', i.user_metadata,
               'created_at', i.created_at, 'updated_at', i.updated_at, 'last_sign_in_at', i.last_sign_in_at,
               'tenants', coalesce((SELECT jsonb_agg(m.tenant ORDER BY m.created_at) FROM auth.memberships m
                                    WHERE m.identity_id = i.id), '[]'))
    FROM auth.identities i WHERE i.id = identity;
$$;

-- What a token for identity in tenant says: the claims tenancy reads. TA001 when not a member,
-- TA002 when the tenant is suspended, TA010 when the identity is disabled.
CREATE FUNCTION auth._grant(identity uuid, wanted uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    m record;
BEGIN
    SELECT ms.tenant, ms.company, t.status, i.status AS identity_status INTO m
    FROM auth.memberships ms
    JOIN tenancy.tenants t ON t.id = ms.tenant
    JOIN auth.identities i ON i.id = ms.identity_id
    WHERE ms.identity_id = identity AND ms.tenant = wanted;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not a member of this tenant' USING ERRCODE = 'TA001';
    ELSIF m.identity_status <> 'active' THEN
        RAISE EXCEPTION 'this user is disabled' USING ERRCODE = 'TA010';
    ELSIF m.status <> 'active' THEN
        RAISE EXCEPTION 'the tenant is suspended' USING ERRCODE = 'TA002';
    END IF;
    RETURN jsonb_build_object('tenant_id', m.tenant, 'company_id', m.company,
        'tenant_roles', ARRAY(SELECT r.role_name FROM tenancy.tenant_role_members r
                              WHERE r.tenant_id = m.tenant AND r.member = identity::text ORDER BY 1),
        'user', auth._identity_json(identity));
END $$;

-- The tenant a sign-in is for: the one asked for, else the one last signed in to, else the
-- first joined (NULL: member of none).
CREATE FUNCTION auth._pick_tenant(identity uuid, wanted uuid) RETURNS uuid
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(wanted,
        (SELECT i.last_tenant FROM auth.identities i JOIN auth.memberships m ON m.identity_id = i.id AND m.tenant = i.last_tenant
         WHERE i.id = identity),
        (SELECT m.tenant FROM auth.memberships m WHERE m.identity_id = identity ORDER BY m.created_at, m.tenant LIMIT 1));
$$;

CREATE FUNCTION auth._join(identity uuid, tenant uuid, roles text[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    r text;
BEGIN
    INSERT INTO auth.memberships (identity_id, tenant) VALUES (identity, tenant) ON CONFLICT DO NOTHING;
    FOREACH r IN ARRAY roles LOOP
        PERFORM tenancy.grant_tenant_role(tenant, identity::text, r);
    END LOOP;
EXCEPTION WHEN SQLSTATE 'TN070' THEN
    RAISE EXCEPTION 'unknown tenant role' USING ERRCODE = 'TA011';
END $$;

CREATE FUNCTION auth._open_session(identity uuid, tenant uuid, refresh_digest bytea, user_agent text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    granted jsonb := auth._grant(identity, tenant);
    session uuid;
BEGIN
    INSERT INTO auth.sessions (identity_id, tenant, user_agent) VALUES (identity, tenant, left(user_agent, 512))
    RETURNING id INTO session;
    INSERT INTO auth.refresh_tokens (digest, session_id) VALUES (refresh_digest, session);
    UPDATE auth.identities SET last_sign_in_at = now(), last_tenant = tenant WHERE id = identity;
    RETURN granted || jsonb_build_object('session_id', session, 'user', auth._identity_json(identity));
END $$;

-- ---- What the API calls (authenticator only) ----

CREATE FUNCTION auth.password_of(email text) RETURNS TABLE (identity_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT i.id, i.password_hash FROM auth.identities i WHERE i.email = lower(btrim(password_of.email)) AND i.status = 'active';
$$;
COMMENT ON FUNCTION auth.password_of(text) IS 'The identity of an email and its password hash, for the API to verify a password (no row: unknown or disabled).';

CREATE FUNCTION auth.sign_in(identity uuid, wanted uuid, refresh_digest bytea, user_agent text) RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT auth._open_session(identity, auth._pick_tenant(identity, wanted), refresh_digest, user_agent);
$$;
COMMENT ON FUNCTION auth.sign_in(uuid, uuid, bytea, text) IS 'A new session for a verified identity in the tenant asked for (or its usual one): the token''s claims, session_id and the user. TA001/TA002/TA010.';

CREATE FUNCTION auth.sign_up(email text, password_hash text, metadata jsonb, tenant uuid, refresh_digest bytea, user_agent text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    open auth.signup_modes;
    identity uuid;
BEGIN
    SELECT * INTO open FROM auth.signup_modes s WHERE s.tenant = sign_up.tenant AND s.mode = 'open';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sign-up is by invitation only for this tenant' USING ERRCODE = 'TA004';
    END IF;
    INSERT INTO auth.identities (email, password_hash, user_metadata)
    VALUES (lower(btrim(email)), password_hash, metadata)
    ON CONFLICT ON CONSTRAINT identities_email_key DO NOTHING
    RETURNING id INTO identity;
    IF identity IS NULL THEN
        RAISE EXCEPTION 'email already registered' USING ERRCODE = 'TA003';
    END IF;
    PERFORM auth._join(identity, tenant, ARRAY[open.default_role]);
    RETURN auth._open_session(identity, tenant, refresh_digest, user_agent);
END $$;
COMMENT ON FUNCTION auth.sign_up(text, text, jsonb, uuid, bytea, text) IS 'A new identity joining a tenant open to sign-up (with its default role), signed in. TA003/TA004.';

CREATE FUNCTION auth.refresh(spent_digest bytea, new_digest bytea, wanted uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    token auth.refresh_tokens;
    s auth.sessions;
    granted jsonb;
BEGIN
    -- Not waiting for the WAL flush makes a refresh cost about what a REST read does; a crash
    -- can lose the last rotations (their clients sign in again), never grant anything.
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT * INTO token FROM auth.refresh_tokens r WHERE r.digest = spent_digest FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refresh token not found' USING ERRCODE = 'TA005';
    END IF;
    SELECT * INTO s FROM auth.sessions x WHERE x.id = token.session_id FOR UPDATE;
    IF s.ended_at IS NOT NULL THEN
        RAISE EXCEPTION 'session ended' USING ERRCODE = 'TA007';
    END IF;
    IF token.spent_at IS NOT NULL THEN
        -- A spent token again: it was stolen or copied. End the whole family; the error is
        -- raised by the caller after this commits.
        UPDATE auth.sessions SET ended_at = now(), ended_why = 'refresh token reused' WHERE id = s.id;
        RETURN jsonb_build_object('reused', true);
    END IF;
    BEGIN
        granted := auth._grant(s.identity_id, coalesce(wanted, s.tenant));
    EXCEPTION WHEN SQLSTATE 'TA001' OR SQLSTATE 'TA010' THEN
        -- Membership removed (or the person disabled) since the last refresh: the session ends.
        IF wanted IS NULL OR wanted = s.tenant THEN
            UPDATE auth.sessions SET ended_at = now(), ended_why = 'membership removed' WHERE id = s.id;
            RETURN jsonb_build_object('ended', true);
        END IF;
        RAISE;
    END;
    UPDATE auth.refresh_tokens SET spent_at = now() WHERE digest = spent_digest;
    INSERT INTO auth.refresh_tokens (digest, session_id) VALUES (new_digest, s.id);
    UPDATE auth.sessions SET refreshed_at = now(), tenant = coalesce(wanted, s.tenant) WHERE id = s.id;
    IF wanted IS NOT NULL THEN
        UPDATE auth.identities SET last_tenant = wanted WHERE id = s.identity_id;
    END IF;
    RETURN granted || jsonb_build_object('session_id', s.id);
END $$;
COMMENT ON FUNCTION auth.refresh(bytea, bytea, uuid) IS 'Spends a refresh token for a new one (and the claims, for this or another tenant of the identity''s). {"reused": true}: a spent token came back and its session is now ended; {"ended": true}: the membership is gone, so is the session. TA005/TA007/TA001/TA002.';

CREATE FUNCTION auth.session(session uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    s auth.sessions;
BEGIN
    SELECT * INTO s FROM auth.sessions x WHERE x.id = session AND x.ended_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session ended' USING ERRCODE = 'TA007';
    END IF;
    RETURN auth._grant(s.identity_id, s.tenant) || jsonb_build_object('session_id', s.id);
END $$;
COMMENT ON FUNCTION auth.session(uuid) IS 'A live session''s claims and user (TA007 once ended, TA001 once the membership is gone).';

CREATE FUNCTION auth.sign_out(session uuid, scope text) RETURNS int
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE auth.sessions x SET ended_at = now(), ended_why = 'signed out (' || scope || ')'
    FROM auth.sessions mine
    WHERE mine.id = sign_out.session AND x.identity_id = mine.identity_id AND x.ended_at IS NULL
      AND CASE scope WHEN 'local' THEN x.id = mine.id WHEN 'others' THEN x.id <> mine.id ELSE true END
    RETURNING 1;
$$;
COMMENT ON FUNCTION auth.sign_out(uuid, text) IS 'Ends this session (local), the identity''s others (others) or all of them (global).';

CREATE FUNCTION auth.update_user(session uuid, password_hash text, metadata jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    granted jsonb := auth.session(session);
    identity uuid := (granted -> 'user' ->> 'id')::uuid;
BEGIN
    UPDATE auth.identities i
    SET password_hash = coalesce(update_user.password_hash, i.password_hash),
        user_metadata = i.user_metadata || coalesce(metadata, '{}'), updated_at = now()
    WHERE i.id = identity;
    IF password_hash IS NOT NULL THEN
        -- A new password ends every other session: whoever knew the old one is out.
        UPDATE auth.sessions SET ended_at = now(), ended_why = 'password changed'
        WHERE identity_id = identity AND id <> session AND ended_at IS NULL;
    END IF;
    RETURN auth._identity_json(identity);
END $$;
COMMENT ON FUNCTION auth.update_user(uuid, text, jsonb) IS 'Sets the password (ending the other sessions) and merges user metadata, for a live session''s identity.';

CREATE FUNCTION auth.sessions_of(session uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'tenant_id', x.tenant, 'created_at', x.created_at,
                    'refreshed_at', x.refreshed_at, 'user_agent', x.user_agent, 'current', x.id = mine.id)
                    ORDER BY x.created_at), '[]')
    FROM auth.sessions mine JOIN auth.sessions x ON x.identity_id = mine.identity_id AND x.ended_at IS NULL
    WHERE mine.id = session AND mine.ended_at IS NULL;
$$;
COMMENT ON FUNCTION auth.sessions_of(uuid) IS 'The live sessions of a session''s identity.';

CREATE FUNCTION auth._is_tenant_admin(session uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    granted jsonb := auth.session(session);
BEGIN
    IF NOT granted -> 'tenant_roles' ? 'tenant_admin' THEN
        RAISE EXCEPTION 'only a tenant admin may do this' USING ERRCODE = 'TA009';
    END IF;
    RETURN (granted ->> 'tenant_id')::uuid;
END $$;

CREATE FUNCTION auth.tenant_sessions(session uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'user_id', x.identity_id, 'email', i.email,
                    'created_at', x.created_at, 'refreshed_at', x.refreshed_at) ORDER BY x.created_at), '[]')
    FROM auth.sessions x JOIN auth.identities i ON i.id = x.identity_id
    WHERE x.tenant = auth._is_tenant_admin(session) AND x.ended_at IS NULL;
$$;
COMMENT ON FUNCTION auth.tenant_sessions(uuid) IS 'For a tenant admin''s session: the tenant''s live sessions. TA009 for anyone else.';

CREATE FUNCTION auth.revoke_session(session uuid, target uuid) RETURNS bool
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH mine AS (SELECT s.identity_id, s.tenant FROM auth.sessions s WHERE s.id = session AND s.ended_at IS NULL)
    UPDATE auth.sessions x SET ended_at = now(), ended_why = 'revoked'
    FROM mine
    WHERE x.id = target AND x.ended_at IS NULL
      AND (x.identity_id = mine.identity_id
           OR (x.tenant = mine.tenant AND EXISTS (SELECT FROM tenancy.tenant_role_members r
               WHERE r.tenant_id = mine.tenant AND r.member = mine.identity_id::text AND r.role_name = 'tenant_admin')))
    RETURNING true;
$$;
COMMENT ON FUNCTION auth.revoke_session(uuid, uuid) IS 'Ends one session: one''s own, or (a tenant admin) any in the tenant. NULL when there is none such.';

CREATE FUNCTION auth.invite(session uuid, email text, roles text[], digest bytea, valid_for interval) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    tenant uuid := auth._is_tenant_admin(session);
    unknown text;
BEGIN
    SELECT r INTO unknown FROM unnest(roles) r
    WHERE NOT EXISTS (SELECT FROM tenancy.tenant_roles d WHERE (d.tenant_id = tenant OR d.tenant_id IS NULL) AND d.name = r);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'tenant role "%" is not defined', unknown USING ERRCODE = 'TA011';
    END IF;
    INSERT INTO auth.codes (digest, kind, email, tenant, roles, invited_by, expires_at)
    SELECT digest, 'invite', lower(btrim(email)), tenant, roles, s.identity_id, now() + valid_for
    FROM auth.sessions s WHERE s.id = session;
    RETURN jsonb_build_object('email', lower(btrim(email)), 'tenant_id', tenant,
        'tenant_name', (SELECT t.name FROM tenancy.tenants t WHERE t.id = tenant));
END $$;
COMMENT ON FUNCTION auth.invite(uuid, text, text[], bytea, interval) IS 'A tenant admin invites an email to the tenant with tenant roles; the code (its digest here) is mailed. TA009/TA011.';

CREATE FUNCTION auth.start_recovery(email text, digest bytea, valid_for interval) RETURNS bool
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO auth.codes (digest, kind, email, expires_at)
    SELECT digest, 'recovery', i.email, now() + valid_for
    FROM auth.identities i WHERE i.email = lower(btrim(start_recovery.email)) AND i.status = 'active'
    RETURNING true;
$$;
COMMENT ON FUNCTION auth.start_recovery(text, bytea, interval) IS 'A recovery code for an active identity''s email (NULL: no such identity, nothing to mail; the API answers alike).';

CREATE FUNCTION auth.verify(kind text, email text, digest bytea, refresh_digest bytea, user_agent text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    code auth.codes;
    identity uuid;
BEGIN
    UPDATE auth.codes c SET used_at = now()
    WHERE c.digest = verify.digest AND c.kind = verify.kind AND c.email = lower(btrim(verify.email))
      AND c.used_at IS NULL AND c.expires_at > now()
    RETURNING * INTO code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'code invalid or expired' USING ERRCODE = 'TA008';
    END IF;
    INSERT INTO auth.identities (email) VALUES (code.email) ON CONFLICT ON CONSTRAINT identities_email_key DO NOTHING;
    SELECT i.id INTO identity FROM auth.identities i WHERE i.email = code.email;
    IF code.kind = 'invite' THEN
        PERFORM auth._join(identity, code.tenant, code.roles);
    END IF;
    RETURN auth._open_session(identity, coalesce(code.tenant, auth._pick_tenant(identity, NULL)), refresh_digest, user_agent);
END $$;
COMMENT ON FUNCTION auth.verify(text, text, bytea, bytea, text) IS 'Spends an invitation (joining the tenant; a new identity has no password until it sets one) or a recovery code: a session. TA008.';

CREATE FUNCTION auth.set_signup_mode(tenant uuid, mode text, default_role text DEFAULT 'employee') RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF NOT EXISTS (SELECT FROM tenancy.tenant_roles d WHERE (d.tenant_id = tenant OR d.tenant_id IS NULL) AND d.name = default_role) THEN
        RAISE EXCEPTION 'tenant role "%" is not defined', default_role USING ERRCODE = 'TA011';
    END IF;
    INSERT INTO auth.signup_modes AS s VALUES (tenant, mode, default_role)
    ON CONFLICT ON CONSTRAINT signup_modes_pkey DO UPDATE SET mode = EXCLUDED.mode, default_role = EXCLUDED.default_role;
END $$;
COMMENT ON FUNCTION auth.set_signup_mode(uuid, text, text) IS 'invite (the default) or open sign-up for a tenant, with the tenant role a newcomer gets. For the database owner.';

CREATE FUNCTION auth.add_member(tenant uuid, email text, roles text[]) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    identity uuid;
BEGIN
    INSERT INTO auth.identities (email) VALUES (lower(btrim(email))) ON CONFLICT ON CONSTRAINT identities_email_key DO NOTHING;
    SELECT i.id INTO identity FROM auth.identities i WHERE i.email = lower(btrim(add_member.email));
    PERFORM auth._join(identity, tenant, roles);
    RETURN identity;
END $$;
COMMENT ON FUNCTION auth.add_member(uuid, text, text[]) IS 'Makes an email (a new identity without password if unknown) a member of a tenant with tenant roles; its id. For the database owner.';

CREATE FUNCTION auth.set_password_hash(identity uuid, password_hash text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE auth.identities SET password_hash = set_password_hash.password_hash, updated_at = now() WHERE id = identity;
$$;
COMMENT ON FUNCTION auth.set_password_hash(uuid, text) IS 'Sets an identity''s argon2id hash (`tenancy-api password` makes one). For the database owner.';

CREATE FUNCTION auth.remove_member(tenant uuid, identity uuid) RETURNS bool
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.revoke_tenant_role(r.tenant_id, r.member, r.role_name) FROM tenancy.tenant_role_members r
    WHERE r.tenant_id = remove_member.tenant AND r.member = identity::text;
    DELETE FROM auth.memberships m WHERE m.tenant = remove_member.tenant AND m.identity_id = identity RETURNING true;
$$;
COMMENT ON FUNCTION auth.remove_member(uuid, uuid) IS 'Ends a membership and its tenant roles; the identity''s sessions in the tenant end at their next refresh. For the database owner.';

CREATE FUNCTION auth.forget(older_than interval DEFAULT '30 days') RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH sessions AS (
        DELETE FROM auth.sessions s WHERE s.ended_at < now() - older_than RETURNING 1
    ), codes AS (
        DELETE FROM auth.codes c WHERE coalesce(c.used_at, c.expires_at) < now() - older_than RETURNING 1
    )
    SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM codes);
$$;
COMMENT ON FUNCTION auth.forget(interval) IS 'Deletes sessions ended (with their refresh tokens) and codes used or expired longer ago than older_than; how many. A live session keeps its spent tokens: they catch reuse. For the database owner, e.g. daily.';

RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO authenticator;
GRANT EXECUTE ON FUNCTION auth.password_of(text), auth.sign_in(uuid, uuid, bytea, text),
    auth.sign_up(text, text, jsonb, uuid, bytea, text), auth.refresh(bytea, bytea, uuid), auth.session(uuid),
    auth.sign_out(uuid, text), auth.update_user(uuid, text, jsonb), auth.sessions_of(uuid),
    auth.tenant_sessions(uuid), auth.revoke_session(uuid, uuid), auth.invite(uuid, text, text[], bytea, interval),
    auth.start_recovery(text, bytea, interval), auth.verify(text, text, bytea, bytea, text)
TO authenticator;
-- set_signup_mode, add_member, set_password_hash, remove_member and forget: for the database owner
-- only (psql, scripts/up). Not tenancy_admin: platform_admin, a request's role, is its member.

-- The tenant role that may invite and see the tenant's sessions (every tenant has it).
SELECT tenancy.define_tenant_role(NULL, 'tenant_admin', '{users:*}', 'Invites people and manages their sessions');
