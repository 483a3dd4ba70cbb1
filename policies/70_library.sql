-- Module library: its tables are tenant-owned and usable only while library is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('library.books', 'library', analytics => '{
    "id": "private", "isbn": "private", "title": "private", "author": "private",
    "copies": {"class": "measure", "extremes": true}}');
SELECT tenancy.protect('library.loans', 'library', analytics => '{
    "id": "private", "book_id": "private", "student_id": "private",
    "loaned_on": "private", "due_on": "private", "returned_on": "private"}');
GRANT USAGE ON SCHEMA library TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA library TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA library TO tenant_member;
