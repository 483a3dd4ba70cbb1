-- Module school: its tables are tenant-owned and usable only while school is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('school.students', 'school');
GRANT USAGE ON SCHEMA school TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA school TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA school TO tenant_member;
