-- expect: constraint-without-not-valid at 3:32
-- expect: constraint-without-not-valid at 4:32
ALTER TABLE hrms.employees ADD CONSTRAINT salary_cap CHECK (salary < 1000000);
ALTER TABLE hrms.employees ADD CONSTRAINT employees_user
    FOREIGN KEY (tenant_id, user_id) REFERENCES core.users (tenant_id, id);
ALTER TABLE hrms.employees ADD CONSTRAINT salary_floor CHECK (salary > 0) NOT VALID;
ALTER TABLE hrms.employees VALIDATE CONSTRAINT salary_floor;
