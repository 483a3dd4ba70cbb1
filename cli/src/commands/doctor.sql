-- What `tenancy doctor` looks for in a live database: one row per finding, with the SQL that
-- fixes it. (check, severity, subject, problem, fix), ordered.
WITH service_roles AS (SELECT unnest($1::text[]) AS rolname)
SELECT * FROM (
    -- every protected table still has forced RLS, its policies, the tenant_id default and index
    SELECT 'unprotected-table' AS check, 'error' AS severity, u.table_name::text AS subject,
           string_agg(u.problem, '; ' ORDER BY u.problem) AS problem,
           format('SELECT tenancy.protect(%L%s);', u.table_name::text,
                  coalesce(', ' || quote_literal(p.module), '')) AS fix
    FROM tenancy.unprotected_tables() u LEFT JOIN tenancy.protected_tables p ON p.tbl = u.table_name
    GROUP BY u.table_name, p.module

    UNION ALL -- only the service role(s) may enter tenants: every membership that leads there
    SELECT 'enters-tenants', 'error', r.rolname,
           format('may enter any tenant (through %s) but is not a service role', g.rolname),
           format('REVOKE %I FROM %I;', g.rolname, r.rolname)
    FROM pg_auth_members m
    JOIN pg_roles r ON r.oid = m.member
    JOIN pg_roles g ON g.oid = m.roleid
    WHERE pg_has_role(g.oid, 'tenancy_service', 'MEMBER')
      AND NOT r.rolsuper AND r.rolname NOT IN (SELECT rolname FROM service_roles)

    UNION ALL -- RLS means nothing to a role that bypasses it
    SELECT 'bypasses-rls', 'error', r.rolname, 'has BYPASSRLS and is not a superuser',
           format('ALTER ROLE %I NOBYPASSRLS;', r.rolname)
    FROM pg_roles r WHERE r.rolbypassrls AND NOT r.rolsuper

    UNION ALL -- a view runs with its owner's rights unless security_invoker: past RLS
    SELECT 'view-past-rls', 'error', v.oid::regclass::text,
           format('reads protected table %s with its owner''s rights', d.refobjid::regclass),
           format('ALTER VIEW %s SET (security_invoker = true);', v.oid::regclass)
    FROM pg_class v
    JOIN pg_rewrite rw ON rw.ev_class = v.oid
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid AND d.refclassid = 'pg_class'::regclass
    JOIN tenancy.protected_tables p ON p.tbl = d.refobjid
    WHERE v.relkind IN ('v', 'm')
      AND (v.relkind = 'm' OR NOT coalesce(v.reloptions @> '{security_invoker=true}' OR v.reloptions @> '{security_invoker=on}', false))
    GROUP BY v.oid, d.refobjid

    UNION ALL -- PUBLIC reaches every role, tenants' login roles included
    SELECT 'public-grant', 'error', p.tbl::text, format('PUBLIC may %s it', string_agg(a.privilege_type, ', ')),
           format('REVOKE ALL ON %s FROM PUBLIC;', p.tbl)
    FROM tenancy.protected_tables p
    JOIN pg_class c ON c.oid = p.tbl
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE a.grantee = 0
    GROUP BY p.tbl

    UNION ALL -- the guard must be on
    SELECT 'guard-off', 'error', e.evtname, 'the extension''s event trigger is disabled',
           format('ALTER EVENT TRIGGER %I ENABLE;', e.evtname)
    FROM pg_event_trigger e
    JOIN pg_depend d ON d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid AND d.deptype = 'e'
    WHERE e.evtenabled = 'D'

    UNION ALL -- a slot holds WAL until it is read: each one's lag, a warning when nobody reads it
    SELECT 'replication-slot', CASE WHEN s.active THEN 'info' ELSE 'warning' END, s.slot_name::text,
           format('%s, %s behind', CASE WHEN s.active THEN 'read' ELSE 'not read by anyone' END,
                  pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(s.confirmed_flush_lsn, s.restart_lsn)))),
           CASE WHEN s.active THEN 'nothing to do'
                ELSE format('start the server that reads it, or SELECT pg_drop_replication_slot(%L);', s.slot_name) END
    FROM pg_replication_slots s
    WHERE s.database = current_database() OR s.database IS NULL

    UNION ALL -- the library on disk is newer than the SQL in the database
    SELECT 'extension-behind', 'warning', 'tenancy',
           format('installed %s, available %s', e.extversion, a.default_version),
           'ALTER EXTENSION tenancy UPDATE;'
    FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
    WHERE e.extname = 'tenancy' AND e.extversion <> a.default_version
) findings
ORDER BY 1, 3;
