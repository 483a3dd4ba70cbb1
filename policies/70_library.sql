-- Module library: its tables are tenant-owned and usable only while library is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('library.books', 'library');
SELECT tenancy.protect('library.loans', 'library');
GRANT USAGE ON SCHEMA library TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA library TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA library TO tenant_member;
