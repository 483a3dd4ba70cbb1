-- `tenancy doctor`'s check of sign-in (schema auth, V13): its tables readable by no role but
-- their owner, its definer functions' search_path pinned, and EXECUTE held by no one but the
-- owner and the API's login role (authenticator) — not PUBLIC, not a role a request or an
-- analyst switches to. (check, severity, subject, problem, fix), ordered.
SELECT * FROM (
    SELECT 'auth-table-readable', 'error', c.oid::regclass::text,
           format('%s may %s it', CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                  string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)),
           format('REVOKE ALL ON %s FROM %s;', c.oid::regclass,
                  CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END)
    FROM pg_class c
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE c.relnamespace = 'auth'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND a.grantee <> c.relowner
    GROUP BY c.oid, a.grantee

    UNION ALL -- a definer function resolving names through the caller's search_path can be hijacked
    SELECT 'auth-function-unpinned', 'error', p.oid::regprocedure::text, 'SECURITY DEFINER without a pinned search_path',
           format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp;', p.oid::regprocedure)
    FROM pg_proc p
    WHERE p.pronamespace = 'auth'::regnamespace AND p.prosecdef
      AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=pg_catalog, pg_temp', 'search_path=pg_catalog,pg_temp'], false)

    UNION ALL -- no ACL means EXECUTE for PUBLIC
    SELECT 'auth-function-reachable', 'error', p.oid::regprocedure::text,
           format('%s may execute it', CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END),
           format('REVOKE EXECUTE ON FUNCTION %s FROM %s;', p.oid::regprocedure,
                  CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END)
    FROM pg_proc p
    CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE p.pronamespace = 'auth'::regnamespace AND a.privilege_type = 'EXECUTE'
      AND a.grantee <> p.proowner
      AND (a.grantee = 0 OR a.grantee::regrole::text <> 'authenticator')
) findings
ORDER BY 1, 3;
