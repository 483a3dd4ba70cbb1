-- Module events: its tables are tenant-owned and usable only while events is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('events.events', 'events');
GRANT USAGE ON SCHEMA events TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA events TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA events TO tenant_member;
