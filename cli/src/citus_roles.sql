-- The coordinator's roles, as commands that make a worker's roles the same: each role created
-- when missing and given the coordinator's attributes and password, then every membership. Run
-- on the workers with propagation off (Citus would otherwise carry each change back).
WITH roles AS (
    SELECT a.* FROM pg_authid a WHERE a.oid >= 16384 AND NOT a.rolsuper
)
SELECT 'SET citus.enable_ddl_propagation = off; ' || string_agg(command, '; ' ORDER BY step, name) FROM (
    SELECT 1 AS step, r.rolname AS name,
           format('DO $r$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %L) THEN CREATE ROLE %I; END IF; END $r$',
                  r.rolname, r.rolname) AS command
    FROM roles r
    UNION ALL
    SELECT 2, r.rolname,
           format('ALTER ROLE %I %sLOGIN %sINHERIT %sBYPASSRLS %sREPLICATION %sCREATEROLE %sCREATEDB PASSWORD %s',
                  r.rolname, CASE WHEN r.rolcanlogin THEN '' ELSE 'NO' END, CASE WHEN r.rolinherit THEN '' ELSE 'NO' END,
                  CASE WHEN r.rolbypassrls THEN '' ELSE 'NO' END, CASE WHEN r.rolreplication THEN '' ELSE 'NO' END,
                  CASE WHEN r.rolcreaterole THEN '' ELSE 'NO' END, CASE WHEN r.rolcreatedb THEN '' ELSE 'NO' END,
                  coalesce(quote_literal(r.rolpassword), 'NULL'))
    FROM roles r
    UNION ALL
    SELECT 3, g.rolname || ' ' || m.rolname,
           format('GRANT %I TO %I%s', g.rolname, m.rolname, CASE WHEN am.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END)
    FROM pg_auth_members am JOIN pg_authid g ON g.oid = am.roleid JOIN pg_authid m ON m.oid = am.member
    WHERE m.oid >= 16384 AND NOT m.rolsuper
) commands
