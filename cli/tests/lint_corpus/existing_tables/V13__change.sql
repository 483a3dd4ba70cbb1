-- expect: column-without-analytics-class at 11:39
-- expect: not-null-column-without-default at 11:39
-- expect: index-without-concurrently at 12:33
-- expect: rls-disabled at 14:13
-- expect: policy-outside-policies at 15:1
-- expect: grant-to-public at 16:17
-- expect: view-without-security-invoker at 17:13
-- A release's change to hrms.employees, a table earlier migrations created and the policies
-- protect. Linted alone it names no table it creates: only what exists (the database's catalog,
-- or `--applied migrations --applied policies`) tells that the table has rows and tenants' data.
ALTER TABLE hrms.employees ADD COLUMN badge_number text NOT NULL;
CREATE INDEX employees_badge ON hrms.employees (tenant_id, badge_number);
-- "the badge reader's batch job is slow behind RLS"
ALTER TABLE hrms.employees DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenancy_rows ON hrms.employees;
GRANT SELECT ON hrms.employees TO PUBLIC;
CREATE VIEW hrms.badges AS SELECT tenant_id, badge_number, first_name, last_name FROM hrms.employees;
