-- A refresh costs no more than a REST read (issue 13). Measured with pgbench on V13's functions:
-- auth._identity_json, a LANGUAGE sql function with a SET clause, is never inlined, so
-- PostgreSQL parsed and planned its query on every call (0.09 ms of a 0.2 ms _grant); and
-- auth.refresh locked two rows before writing them and caught _grant's errors in an EXCEPTION
-- block, a subtransaction per refresh. Same contracts, same answers, same SQLSTATEs.
SET LOCAL ROLE tenancy_auth_owner;

-- PL/pgSQL keeps the query's plan for the session.
CREATE OR REPLACE FUNCTION auth._identity_json(identity uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    RETURN (SELECT jsonb_build_object('id', i.id, 'email', i.email, 'user_metadata', i.user_metadata,
               'created_at', i.created_at, 'updated_at', i.updated_at, 'last_sign_in_at', i.last_sign_in_at,
               'tenants', coalesce((SELECT jsonb_agg(m.tenant ORDER BY m.created_at) FROM auth.memberships m
                                    WHERE m.identity_id = i.id), '[]'))
            FROM auth.identities i WHERE i.id = identity);
END $$;

-- Rotation is claimed by the UPDATE itself: of two refreshes with the same token the second
-- waits for the first, finds it spent and ends the family, as before. Every error leaves
-- nothing spent (the transaction rolls back); the caller raises refresh_token_already_used
-- and tenant_not_allowed from {"reused"} and {"ended"} after they committed.
CREATE OR REPLACE FUNCTION auth.refresh(spent_digest bytea, new_digest bytea, wanted uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    spent_session uuid;
    s auth.sessions;
    still_member bool;
    granted jsonb;
BEGIN
    -- Not waiting for the WAL flush: a crash can lose the last rotations (their clients sign
    -- in again, see the README), never grant anything.
    PERFORM set_config('synchronous_commit', 'off', true);
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
    -- Membership removed (or the person disabled) since the last refresh: the session ends.
    -- Another tenant asked for is _grant's to refuse (nothing spent).
    SELECT ms.identity_id IS NOT NULL AND i.status = 'active' INTO still_member
    FROM auth.identities i LEFT JOIN auth.memberships ms ON ms.identity_id = i.id AND ms.tenant = s.tenant
    WHERE i.id = s.identity_id;
    IF NOT still_member AND (wanted IS NULL OR wanted = s.tenant) THEN
        UPDATE auth.sessions SET ended_at = now(), ended_why = 'membership removed' WHERE id = s.id;
        RETURN jsonb_build_object('ended', true);
    END IF;
    granted := auth._grant(s.identity_id, coalesce(wanted, s.tenant));
    INSERT INTO auth.refresh_tokens (digest, session_id) VALUES (new_digest, s.id);
    IF wanted IS NOT NULL THEN
        UPDATE auth.sessions SET tenant = wanted WHERE id = s.id AND tenant <> wanted;
        UPDATE auth.identities SET last_tenant = wanted WHERE id = s.identity_id;
    END IF;
    RETURN granted || jsonb_build_object('session_id', s.id);
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
REVOKE EXECUTE ON FUNCTION auth._refresh_refused(bytea) FROM PUBLIC;
