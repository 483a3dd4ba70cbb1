-- Module pipeline: its tables are tenant-owned and usable only while pipeline is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('pipeline.deals', 'pipeline', analytics => '{
    "id": "private", "company_id": "private", "owner_id": "private", "title": "private",
    "stage": "dimension", "currency": "dimension", "amount": "measure", "expected_close": "private"}');
GRANT USAGE ON SCHEMA pipeline TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pipeline TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pipeline TO tenant_member;
