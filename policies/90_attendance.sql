-- Module attendance: its tables are tenant-owned and usable only while attendance is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('attendance.records', 'attendance', analytics => '{"id": "private", "student_id": "private", "note": "private", "day": {"class": "dimension", "reason": "a school day is shared by all its students"}, "status": "dimension"}');
GRANT USAGE ON SCHEMA attendance TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA attendance TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA attendance TO tenant_member;
