-- Module hrms: its tables are tenant-owned and usable only while hrms is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('hrms.departments', 'hrms', analytics => '{"id": "private", "company_id": "private", "name": "private"}');
SELECT tenancy.protect('hrms.employees', 'hrms', analytics => '{
    "id": "private", "company_id": "private", "department_id": "private", "user_id": "private",
    "first_name": "private", "last_name": "private", "email": "private",
    "job_title": "dimension", "status": "dimension", "salary": "measure",
    "hired_on": {"class": "measure", "extremes": true}}');
GRANT USAGE ON SCHEMA hrms TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA hrms TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA hrms TO tenant_member;

-- Only holders of hrms:write (e.g. the tenant role hr_manager) change employees: one check
-- per statement, TN071 naming the permission otherwise.
DROP POLICY IF EXISTS employees_write_insert ON hrms.employees;
DROP POLICY IF EXISTS employees_write_update ON hrms.employees;
DROP POLICY IF EXISTS employees_write_delete ON hrms.employees;
-- tenancy-lint: allow restrictive-policy -- one node: narrows the tenancy policies; on Citus it would widen them (README, Scale-out on Citus)
CREATE POLICY employees_write_insert ON hrms.employees AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT tenancy.require_permission('hrms:write')));
-- tenancy-lint: allow restrictive-policy -- one node: narrows the tenancy policies; on Citus it would widen them (README, Scale-out on Citus)
CREATE POLICY employees_write_update ON hrms.employees AS RESTRICTIVE FOR UPDATE
    USING ((SELECT tenancy.require_permission('hrms:write')));
-- tenancy-lint: allow restrictive-policy -- one node: narrows the tenancy policies; on Citus it would widen them (README, Scale-out on Citus)
CREATE POLICY employees_write_delete ON hrms.employees AS RESTRICTIVE FOR DELETE
    USING ((SELECT tenancy.require_permission('hrms:write')));

-- Every change to an employee goes to the tenant's event log (api.events).
SELECT tenancy.record_writes('hrms.employees');
