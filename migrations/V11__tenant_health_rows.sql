-- A tenant's health shows how many rows it owns in each protected table.
CREATE OR REPLACE VIEW platform.tenant_health AS
SELECT t.id, t.slug, t.status, t.plan, t.modules, t.companies,
       (SELECT max(e.at) FROM tenancy.events e WHERE e.tenant_id = t.id) AS last_activity,
       (SELECT count(*) FROM tenancy.events e WHERE e.tenant_id = t.id AND e.at > now() - interval '30 days')
           AS events_last_30_days,
       tenancy.tenant_row_counts(t.id) AS rows
FROM platform.tenants t;
