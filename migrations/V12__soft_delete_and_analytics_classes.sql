-- tenancy 0.2.0 deletes tenants in two steps and classifies the columns analytics may use.
-- The platform API follows: delete_tenant schedules the erasure (the tenant is suspended
-- meanwhile), restore_tenant cancels it, erase_tenant erases now, and tenants show when an
-- erasure is due. The analytics API applies the platform's minimum group size unless a
-- caller asks for more, and shows what each column may be used for.
CREATE OR REPLACE VIEW platform.tenants AS
SELECT t.id, t.slug, t.name, t.status, t.plan, t.theme, t.contact_email, t.created_at, t.updated_at,
       ARRAY(SELECT m.key FROM tenancy.modules m
             WHERE m.is_core OR EXISTS (SELECT FROM tenancy.tenant_modules tm
                                        WHERE tm.tenant_id = t.id AND tm.module = m.key AND tm.enabled)
             ORDER BY m.key) AS modules,
       (SELECT count(*) FROM tenancy.companies c WHERE c.tenant_id = t.id) AS companies,
       (SELECT d.erase_after FROM tenancy.tenant_deletions d WHERE d.tenant_id = t.id) AS erase_after
FROM tenancy.tenants t;

DROP FUNCTION platform.delete_tenant(uuid);
CREATE FUNCTION platform.delete_tenant(id uuid, grace interval DEFAULT interval '30 days') RETURNS platform.tenants
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.delete_tenant(id, grace);
    SELECT t FROM platform.tenants t WHERE t.id = delete_tenant.id;
$$;

CREATE FUNCTION platform.restore_tenant(id uuid) RETURNS platform.tenants
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.restore_tenant(id);
    SELECT t FROM platform.tenants t WHERE t.id = restore_tenant.id;
$$;

CREATE FUNCTION platform.erase_tenant(id uuid) RETURNS jsonb
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.erase_tenant(id);
$$;

REVOKE EXECUTE ON FUNCTION platform.delete_tenant(uuid, interval), platform.restore_tenant(uuid),
    platform.erase_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION platform.delete_tenant(uuid, interval), platform.restore_tenant(uuid),
    platform.erase_tenant(uuid) TO platform_admin;

CREATE OR REPLACE FUNCTION analytics.aggregate(tbl text, measures text[] DEFAULT '{count}', group_by text[] DEFAULT '{}',
                                               filters jsonb DEFAULT '{}', per_tenant bool DEFAULT false,
                                               min_group_size int DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, group_values jsonb, aggregates jsonb, row_count bigint, tenant_count bigint,
               suppressed_groups bigint, excluded_tenants bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM tenancy.aggregate(tbl, measures, group_by, filters, per_tenant, min_group_size);
$$;

CREATE VIEW analytics.analytics_classes WITH (security_invoker = true) AS SELECT * FROM tenancy.analytics_classes;
CREATE VIEW analytics.policy WITH (security_invoker = true) AS
SELECT tenancy.analytics_min_group_size() AS min_group_size;

REVOKE ALL ON analytics.analytics_classes, analytics.policy FROM PUBLIC;
GRANT SELECT ON analytics.analytics_classes, analytics.policy TO tenancy_analytics;
