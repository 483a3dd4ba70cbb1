-- Module hrms: its tables are tenant-owned and usable only while hrms is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('hrms.departments', 'hrms', analytics => '{"id": "private", "company_id": "private", "name": "private"}');
-- Only holders of hrms:write (e.g. the tenant role hr_manager) change employees: one check
-- per statement, TN071 naming the permission otherwise. Part of the tenancy policies
-- (write_permission) rather than policies of its own, which Citus would widen.
SELECT tenancy.protect('hrms.employees', 'hrms', write_permission => 'hrms:write', analytics => '{
    "id": "private", "company_id": "private", "department_id": "private", "user_id": "private",
    "first_name": "private", "last_name": "private", "email": "private",
    "job_title": "dimension", "status": "dimension", "salary": "measure",
    "hired_on": {"class": "measure", "extremes": true}}');
GRANT USAGE ON SCHEMA hrms TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA hrms TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA hrms TO tenant_member;
-- (the policies of their own that earlier versions of this file made)
DROP POLICY IF EXISTS employees_write_insert ON hrms.employees;
DROP POLICY IF EXISTS employees_write_update ON hrms.employees;
DROP POLICY IF EXISTS employees_write_delete ON hrms.employees;

-- Every change to an employee goes to the tenant's event log (api.events).
SELECT tenancy.record_writes('hrms.employees');
