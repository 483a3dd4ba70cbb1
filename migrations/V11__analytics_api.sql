-- The platform's analytics over REST, for the role tenancy_analytics: cross-tenant aggregates
-- and the platform views, in schema analytics. Nothing here can read a tenant's rows: the
-- function and the views are the extension's, which only aggregate.
CREATE SCHEMA analytics;
GRANT USAGE ON SCHEMA analytics TO tenancy_analytics;
COMMENT ON SCHEMA analytics IS 'Cross-tenant analytics for the platform (role tenancy_analytics).';

CREATE FUNCTION analytics.aggregate(tbl text, measures text[] DEFAULT '{count}', group_by text[] DEFAULT '{}',
                                    filters jsonb DEFAULT '{}', per_tenant bool DEFAULT false,
                                    min_group_size int DEFAULT 1)
RETURNS TABLE (tenant_id uuid, group_values jsonb, aggregates jsonb, row_count bigint, tenant_count bigint,
               suppressed_groups bigint, excluded_tenants bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM tenancy.aggregate(tbl, measures, group_by, filters, per_tenant, min_group_size);
$$;

CREATE VIEW analytics.module_adoption WITH (security_invoker = true) AS SELECT * FROM tenancy.module_adoption;
CREATE VIEW analytics.tenant_table_usage WITH (security_invoker = true) AS SELECT * FROM tenancy.tenant_table_usage;
CREATE VIEW analytics.tenant_daily_events WITH (security_invoker = true) AS SELECT * FROM tenancy.tenant_daily_events;
CREATE VIEW analytics.tenants_by_plan WITH (security_invoker = true) AS SELECT * FROM tenancy.tenants_by_plan;

REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO tenancy_analytics;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO tenancy_analytics;
