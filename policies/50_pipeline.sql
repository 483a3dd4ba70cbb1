-- Module pipeline: its tables are tenant-owned and usable only while pipeline is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('pipeline.deals', 'pipeline');
GRANT USAGE ON SCHEMA pipeline TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pipeline TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pipeline TO tenant_member;
