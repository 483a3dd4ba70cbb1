-- Functions served as /rpc/<name>. They run with the caller's rights, so the policies
-- confine them to the caller's tenant like any query.
DO $$
BEGIN
    -- web_anon: the role of requests without a token; granted only what is public.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'web_anon') THEN
        CREATE ROLE web_anon NOLOGIN;
    END IF;
END $$;

CREATE FUNCTION hrms.headcount() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM hrms.employees WHERE status <> 'left';
$$;

CREATE FUNCTION hrms.headcount_by_department() RETURNS TABLE (department text, headcount bigint)
LANGUAGE sql STABLE AS $$
    SELECT d.name, count(e.id)
    FROM hrms.departments d LEFT JOIN hrms.employees e ON e.tenant_id = d.tenant_id AND e.department_id = d.id
    GROUP BY d.name;
$$;

CREATE FUNCTION hrms.hired_since(since date) RETURNS SETOF hrms.employees
LANGUAGE sql STABLE AS $$
    SELECT * FROM hrms.employees WHERE hired_on >= since;
$$;

CREATE FUNCTION hrms.give_raise(employee uuid, percent numeric) RETURNS hrms.employees
LANGUAGE sql VOLATILE AS $$
    UPDATE hrms.employees SET salary = round(salary * (1 + percent / 100), 2) WHERE id = employee RETURNING *;
$$;

-- The public face of a tenant, for its login page: anyone may ask, by subdomain.
CREATE SCHEMA api;
CREATE FUNCTION api.tenant_config(slug text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    config jsonb := tenancy.public_config(slug);
BEGIN
    IF config IS NULL THEN
        RAISE EXCEPTION 'no active tenant "%"', slug USING ERRCODE = 'TN001';
    END IF;
    RETURN config;
END $$;
GRANT USAGE ON SCHEMA api TO PUBLIC;
