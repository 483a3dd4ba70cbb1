-- Module users: its tables are tenant-owned and usable only while users is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('core.users', 'users');
SELECT tenancy.protect('core.user_profiles', 'users');
GRANT USAGE ON SCHEMA core TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA core TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA core TO tenant_member;
