-- Module users: its tables are tenant-owned and usable only while users is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('core.users', 'users', analytics => '{"id": "private", "email": "private", "display_name": "private", "created_at": "private"}');
SELECT tenancy.protect('core.user_profiles', 'users', analytics => '{"user_id": "private", "phone": "private", "avatar_url": "private", "locale": "dimension", "bio": "private"}');
GRANT USAGE ON SCHEMA core TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA core TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA core TO tenant_member;
