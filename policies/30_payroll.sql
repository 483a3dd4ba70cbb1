-- Module payroll: its tables are tenant-owned and usable only while payroll is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('payroll.payslips', 'payroll', analytics => '{
    "id": "private", "employee_id": "private", "issued_at": "private",
    "period_start": {"class": "dimension", "reason": "pay periods are the same for every employee of a tenant"},
    "period_end": "dimension", "currency": "dimension",
    "gross": "measure", "tax": "measure", "net": "measure"}');
GRANT USAGE ON SCHEMA payroll TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA payroll TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA payroll TO tenant_member;
