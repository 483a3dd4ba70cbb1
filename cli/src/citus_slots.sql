-- The replication slots of this database on each worker (real-time reads one on every node: a
-- distributed table's changes are in the WAL of the worker holding the shard), and how far
-- behind each is. (node, slot, active, behind, plugin).
SELECT format('%s:%s', w.nodename, w.nodeport) AS node, s->>'slot' AS slot, (s->>'active')::bool AS active,
       s->>'behind' AS behind, s->>'plugin' AS plugin
FROM run_command_on_workers($$
    SELECT coalesce(json_agg(json_build_object(
               'slot', slot_name, 'active', active, 'plugin', plugin,
               'behind', pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(confirmed_flush_lsn, restart_lsn))))
           ORDER BY slot_name), '[]')
    FROM pg_replication_slots WHERE database = current_database()$$) w
CROSS JOIN LATERAL json_array_elements(w.result::json) s
WHERE w.success
