-- Module hrms: its tables are tenant-owned and usable only while hrms is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('hrms.departments', 'hrms');
SELECT tenancy.protect('hrms.employees', 'hrms');
GRANT USAGE ON SCHEMA hrms TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA hrms TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA hrms TO tenant_member;
