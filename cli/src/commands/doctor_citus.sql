-- `tenancy doctor` on Citus (checked where the citus extension is installed): every node has the
-- cluster's context key (the sealed tenant context is refused where the key is missing or
-- different), the workers answer, the roles requests switch to can log in on the workers (Citus
-- connects as them), the workers may read their copy of the catalog, protected tables are
-- distributed, and no restrictive policy is left on one (Citus copies it to the shards as
-- permissive); real-time can read every worker's changes (change data capture on, its login
-- and the publications there). (check, severity, subject, problem, fix).
WITH keys AS (
    SELECT 'coordinator'::text AS node, md5(k) AS digest, length(k) AS len, true AS answered
    FROM (SELECT pg_read_binary_file('tenancy_context.key', 0, 4096, true) AS k) f
    UNION ALL
    SELECT format('%s:%s', w.nodename, w.nodeport), nullif(split_part(w.result, ' ', 1), ''),
           nullif(split_part(w.result, ' ', 2), '')::int, w.success
    FROM run_command_on_workers(
        $$SELECT coalesce(md5(k), '') || ' ' || coalesce(length(k), 0)
          FROM pg_read_binary_file('tenancy_context.key', 0, 4096, true) k$$) w
)
SELECT * FROM (
    SELECT 'citus-worker-unreachable' AS check, 'error' AS severity, k.node AS subject,
           'the coordinator cannot run a command there' AS problem,
           'Check that the worker runs and accepts the coordinator''s connections (SELECT * FROM citus_check_cluster_node_health()).' AS fix
    FROM keys k WHERE NOT k.answered

    UNION ALL -- no key, or a short one: no sealed context is accepted there, so tenants see no rows
    SELECT 'citus-context-key', 'error', k.node,
           'has no context key of 32 bytes or more (tenancy_context.key in its data directory): tenants see no rows there',
           'Copy the coordinator''s tenancy_context.key into this node''s data directory (owner postgres, mode 600).'
    FROM keys k WHERE k.answered AND coalesce(k.len, 0) < 32

    UNION ALL -- a different key refuses every context the coordinator seals
    SELECT 'citus-context-key', 'error', k.node,
           'its context key differs from the coordinator''s: contexts sealed on the coordinator are refused there',
           'Copy the coordinator''s tenancy_context.key into this node''s data directory (owner postgres, mode 600).'
    FROM keys k, keys c
    WHERE c.node = 'coordinator' AND k.node <> 'coordinator' AND k.answered AND k.len >= 32 AND c.len >= 32
      AND k.digest <> c.digest

    UNION ALL -- Citus opens its worker connections as the role a request switched to
    SELECT 'citus-role-cannot-login', 'error', r.rolname,
           format('%s switches to it, and Citus connects to the workers as it, but it cannot log in', s.rolname),
           format('ALTER ROLE %I LOGIN;  -- and let only the coordinator reach the workers as it (pg_hba.conf)', r.rolname)
    FROM pg_auth_members m
    JOIN pg_roles s ON s.oid = m.member
    JOIN pg_roles r ON r.oid = m.roleid
    WHERE pg_has_role(s.oid, 'tenancy_service', 'MEMBER') AND NOT s.rolsuper
      AND r.rolname <> 'tenancy_service' AND NOT r.rolcanlogin

    UNION ALL -- a worker that may not read its copy of the catalog inside a shard query (a node
              -- added after `tenancy distribute`): permission checks and refusals fail there
    SELECT 'citus-nested-catalog-reads', 'error', format('%s:%s', w.nodename, w.nodeport),
           'may not read the catalog inside the shard queries it runs (citus.allow_nested_distributed_execution is off)',
           format('ALTER DATABASE %I SET citus.allow_nested_distributed_execution = on;  -- on that worker', current_database())
    FROM run_command_on_workers('SHOW citus.allow_nested_distributed_execution') w
    WHERE tenancy._catalog_distributed() AND w.success AND w.result <> 'on'

    UNION ALL -- a protected table left on the coordinator
    SELECT 'citus-not-distributed', 'warning', p.tbl::text, 'is protected but not distributed: its rows stay on the coordinator',
           'tenancy distribute  -- or SELECT * FROM tenancy.distribute();'
    FROM tenancy.protected_tables p
    WHERE NOT EXISTS (SELECT FROM pg_dist_partition d WHERE d.logicalrelid = p.tbl)

    UNION ALL -- real-time reads each node's WAL: without change data capture a worker decodes a shard's
              -- changes under the shard's own name, which no publication lists
    SELECT 'citus-change-data-capture', 'error', n.node,
           'citus.enable_change_data_capture is off: real-time receives none of the changes of the shards there',
           'ALTER SYSTEM SET citus.enable_change_data_capture = on; SELECT pg_reload_conf();  -- on that node'
    FROM (SELECT 'coordinator' AS node, current_setting('citus.enable_change_data_capture') AS setting
          UNION ALL
          SELECT format('%s:%s', nodename, nodeport), result
          FROM run_command_on_workers('SHOW citus.enable_change_data_capture') WHERE success) n
    WHERE n.setting <> 'on'
      AND EXISTS (SELECT FROM pg_publication_rel r JOIN pg_dist_partition d ON d.logicalrelid = r.prrelid)

    UNION ALL -- real-time connects to every worker as the coordinator's replication login (V14's)
    SELECT 'citus-realtime-login', 'error', format('%s:%s', w.nodename, w.nodeport),
           'tenancy_realtime cannot log in there with REPLICATION: real-time cannot read that worker''s changes',
           'ALTER ROLE tenancy_realtime LOGIN REPLICATION;  -- on that worker (SET citus.enable_ddl_propagation = off first)'
    FROM run_command_on_workers(
        $$SELECT coalesce((SELECT rolcanlogin AND rolreplication FROM pg_roles WHERE rolname = 'tenancy_realtime'), false)$$) w
    WHERE w.success AND w.result <> 't'
      AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_realtime' AND rolcanlogin AND rolreplication)

    UNION ALL -- a publication made on the coordinator alone (before `tenancy distribute`)
    SELECT 'citus-publication-missing', 'error', format('%s on %s:%s', p.pubname, w.nodename, w.nodeport),
           'the worker lacks this publication of distributed tables: real-time receives none of its shards'' changes',
           'tenancy distribute  -- makes the coordinator''s publications again through Citus, on every node'
    FROM pg_publication p
    CROSS JOIN LATERAL run_command_on_workers(format('SELECT count(*) FROM pg_publication WHERE pubname = %L', p.pubname)) w
    WHERE w.success AND w.result = '0'
      AND EXISTS (SELECT FROM pg_publication_rel r JOIN pg_dist_partition d ON d.logicalrelid = r.prrelid
                  WHERE r.prpubid = p.oid)

    UNION ALL -- Citus 13.2 writes a shard's policies without AS RESTRICTIVE
    SELECT 'citus-restrictive-policy', 'error', format('%s on %s', pol.polname, pol.polrelid::regclass),
           'is restrictive, and Citus copies it to the shards as permissive: there it widens what rows pass',
           format('DROP POLICY %I ON %s;  -- a permission to write: tenancy.protect(.., write_permission => ...)', pol.polname, pol.polrelid::regclass)
    FROM pg_policy pol JOIN tenancy.protected_tables p ON p.tbl = pol.polrelid
    WHERE NOT pol.polpermissive
) findings
ORDER BY 1, 3;
