-- The SQL-language functions that write with their parameters, and the demo's functions over
-- tenant tables, made PL/pgSQL: Citus cannot plan a query inside a SQL function that uses the
-- function's parameters ("could not create distributed plan ... parameters in SQL functions,
-- which is not supported in Citus"; and a SQL function over a distributed table, whose policies
-- call functions, is refused the same way), so on the cluster signing out and revoking a session
-- were 500s, a recovery mail was never sent and /rpc/headcount_by_department answered nothing.
-- PL/pgSQL hands Citus the values. (`CASE scope WHEN 'local' ...` is written `CASE WHEN scope =
-- 'local' ...`: Citus deparsed the first form with the value in place as `text = boolean`.)
-- Same signatures, owners, grants and answers: a SQL function
-- returns its last statement's first row, or NULL when there is none, and so do these.

CREATE OR REPLACE FUNCTION auth.sign_out(session uuid, scope text) RETURNS int
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ended bigint;
BEGIN
    WITH x AS (
        UPDATE auth.sessions x SET ended_at = now(), ended_why = 'signed out (' || sign_out.scope || ')'
        FROM auth.sessions mine
        WHERE mine.id = sign_out.session AND x.identity_id = mine.identity_id AND x.ended_at IS NULL
          AND CASE WHEN sign_out.scope = 'local' THEN x.id = mine.id
                   WHEN sign_out.scope = 'others' THEN x.id <> mine.id
                   ELSE true END
        RETURNING 1)
    SELECT count(*) INTO ended FROM x;
    RETURN CASE WHEN ended > 0 THEN 1 END;
END $$;

CREATE OR REPLACE FUNCTION auth.revoke_session(session uuid, target uuid) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    revoked bigint;
BEGIN
    WITH mine AS (
        SELECT s.identity_id, s.tenant FROM auth.sessions s WHERE s.id = revoke_session.session AND s.ended_at IS NULL
    ), x AS (
        UPDATE auth.sessions x SET ended_at = now(), ended_why = 'revoked'
        FROM mine
        WHERE x.id = revoke_session.target AND x.ended_at IS NULL
          AND (x.identity_id = mine.identity_id
               OR (x.tenant = mine.tenant AND EXISTS (SELECT FROM tenancy.tenant_role_members r
                   WHERE r.tenant_id = mine.tenant AND r.member = mine.identity_id::text AND r.role_name = 'tenant_admin')))
        RETURNING 1)
    SELECT count(*) INTO revoked FROM x;
    RETURN CASE WHEN revoked > 0 THEN true END;
END $$;

CREATE OR REPLACE FUNCTION auth.start_recovery(email text, digest bytea, valid_for interval) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    started bigint;
BEGIN
    WITH x AS (
        INSERT INTO auth.codes (digest, kind, email, expires_at)
        SELECT start_recovery.digest, 'recovery', i.email, now() + start_recovery.valid_for
        FROM auth.identities i WHERE i.email = lower(btrim(start_recovery.email)) AND i.status = 'active'
        RETURNING 1)
    SELECT count(*) INTO started FROM x;
    RETURN CASE WHEN started > 0 THEN true END;
END $$;

CREATE OR REPLACE FUNCTION auth.set_password_hash(identity uuid, password_hash text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE auth.identities i SET password_hash = set_password_hash.password_hash, updated_at = now()
    WHERE i.id = set_password_hash.identity;
END $$;

CREATE OR REPLACE FUNCTION auth.remove_member(tenant uuid, identity uuid) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed bigint;
BEGIN
    PERFORM tenancy.revoke_tenant_role(r.tenant_id, r.member, r.role_name) FROM tenancy.tenant_role_members r
    WHERE r.tenant_id = remove_member.tenant AND r.member = remove_member.identity::text;
    WITH x AS (
        DELETE FROM auth.memberships m
        WHERE m.tenant = remove_member.tenant AND m.identity_id = remove_member.identity RETURNING 1)
    SELECT count(*) INTO removed FROM x;
    RETURN CASE WHEN removed > 0 THEN true END;
END $$;

CREATE OR REPLACE FUNCTION auth.forget(older_than interval DEFAULT '30 days') RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    forgotten bigint;
BEGIN
    WITH sessions AS (
        DELETE FROM auth.sessions s WHERE s.ended_at < now() - forget.older_than RETURNING 1
    ), codes AS (
        DELETE FROM auth.codes c WHERE coalesce(c.used_at, c.expires_at) < now() - forget.older_than RETURNING 1
    )
    SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM codes) INTO forgotten;
    RETURN forgotten;
END $$;

CREATE OR REPLACE FUNCTION auth.remove_platform_admin(identity uuid) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed bigint;
BEGIN
    UPDATE auth.sessions s SET ended_at = now(), ended_why = 'platform account removed'
    WHERE s.identity_id = remove_platform_admin.identity AND s.tenant IS NULL AND s.ended_at IS NULL;
    WITH x AS (DELETE FROM auth.platform_admins p WHERE p.identity_id = remove_platform_admin.identity RETURNING 1)
    SELECT count(*) INTO removed FROM x;
    RETURN CASE WHEN removed > 0 THEN true END;
END $$;

CREATE OR REPLACE FUNCTION hrms.headcount() RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*) FROM hrms.employees e WHERE e.status <> 'left');
END $$;

CREATE OR REPLACE FUNCTION hrms.headcount_by_department() RETURNS TABLE (department text, headcount bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT d.name, count(e.id)
    FROM hrms.departments d LEFT JOIN hrms.employees e ON e.tenant_id = d.tenant_id AND e.department_id = d.id
    GROUP BY d.name;
END $$;

CREATE OR REPLACE FUNCTION hrms.hired_since(since date) RETURNS SETOF hrms.employees
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT * FROM hrms.employees e WHERE e.hired_on >= hired_since.since;
END $$;

CREATE OR REPLACE FUNCTION hrms.give_raise(employee uuid, percent numeric) RETURNS hrms.employees
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    raised hrms.employees;
BEGIN
    UPDATE hrms.employees e SET salary = round(e.salary * (1 + give_raise.percent / 100), 2)
    WHERE e.id = give_raise.employee RETURNING e.* INTO raised;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN raised;
END $$;
