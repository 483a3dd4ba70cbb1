-- platform.tenant_load: per tenant, the load Citus measures (`citus_stat_tenants`: the queries
-- that name one tenant and run on one shard, and their CPU, in this period and the last) and the
-- workers holding its shards: the candidates for `tenancy isolate`. Empty on one node (no Citus).
CREATE FUNCTION platform._tenant_load()
RETURNS TABLE (id uuid, slug text, nodes text[], queries_this_period bigint, queries_last_period bigint,
               reads_this_period bigint, cpu_seconds_this_period double precision,
               cpu_seconds_last_period double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    -- citus_stat_tenants has a row per tenant, node and group of co-located tables
    RETURN QUERY EXECUTE $q$
        SELECT t.id, t.slug, array_agg(DISTINCT n.nodename || ':' || n.nodeport ORDER BY n.nodename || ':' || n.nodeport),
               sum(s.query_count_in_this_period)::bigint, sum(s.query_count_in_last_period)::bigint,
               sum(s.read_count_in_this_period)::bigint, sum(s.cpu_usage_in_this_period), sum(s.cpu_usage_in_last_period)
        FROM citus_stat_tenants s
        JOIN tenancy.tenants t ON t.id::text = s.tenant_attribute
        JOIN pg_dist_node n ON n.nodeid = s.nodeid
        GROUP BY t.id, t.slug
        ORDER BY sum(s.cpu_usage_in_this_period) DESC, t.slug$q$;
END $$;
CREATE VIEW platform.tenant_load AS SELECT * FROM platform._tenant_load();
COMMENT ON VIEW platform.tenant_load IS 'Per tenant on Citus: single-shard queries, reads and CPU seconds this period and the last (citus_stat_tenants), and the workers of its shards; empty on one node.';
REVOKE ALL ON platform.tenant_load FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION platform._tenant_load() FROM PUBLIC;
GRANT SELECT ON platform.tenant_load TO platform_admin;
GRANT EXECUTE ON FUNCTION platform._tenant_load() TO platform_admin;
