-- Module school: its tables are tenant-owned and usable only while school is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('school.students', 'school', analytics => '{
    "id": "private", "company_id": "private", "first_name": "private", "last_name": "private",
    "grade": "dimension", "enrolled_on": "private"}');
GRANT USAGE ON SCHEMA school TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA school TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA school TO tenant_member;
