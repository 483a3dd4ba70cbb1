-- Module events: its tables are tenant-owned and usable only while events is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('events.events', 'events', analytics => '{
    "id": "private", "company_id": "private", "title": "private", "location": "private",
    "starts_at": "private", "ends_at": "private"}');
GRANT USAGE ON SCHEMA events TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA events TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA events TO tenant_member;
