-- Module payroll: its tables are tenant-owned and usable only while payroll is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('payroll.payslips', 'payroll');
GRANT USAGE ON SCHEMA payroll TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA payroll TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA payroll TO tenant_member;
