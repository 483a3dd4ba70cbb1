-- Module attendance: its tables are tenant-owned and usable only while attendance is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('attendance.records', 'attendance');
GRANT USAGE ON SCHEMA attendance TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA attendance TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA attendance TO tenant_member;
