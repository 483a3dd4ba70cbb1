-- Default tenant roles of the demo applications: every tenant has them unless it defines its
-- own of the same name (tenancy.define_tenant_role with its id).
SELECT tenancy.define_tenant_role(NULL, 'hr_manager', '{hrms:*,users:read}', 'Manages employees and departments');
SELECT tenancy.define_tenant_role(NULL, 'employee', '{hrms:read,users:read,chat:read,chat:post}', 'Staff');
SELECT tenancy.define_tenant_role(NULL, 'payroll_officer', '{payroll:*,hrms:read}', 'Runs payroll');
SELECT tenancy.define_tenant_role(NULL, 'sales_rep', '{pipeline:read,pipeline:write}', 'Works the pipeline');
SELECT tenancy.define_tenant_role(NULL, 'teacher', '{school:read,attendance:*,library:read}', 'Teaches and takes attendance');
SELECT tenancy.define_tenant_role(NULL, 'librarian', '{library:*,school:read}', 'Runs the library');
