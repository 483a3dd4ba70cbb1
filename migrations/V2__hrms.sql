SELECT tenancy.install_module($${
    "key": "hrms", "name": "HRMS", "version": "1.0.0", "platform": ">=0.1",
    "description": "Departments and employees", "icon": "briefcase", "sort_order": 10,
    "permissions": ["hrms:read", "hrms:write", "hrms:manage"],
    "config": {"probation_days": 90, "work_week": ["mon", "tue", "wed", "thu", "fri"]},
    "features": {"org_chart": true, "self_service": false}
}$$);

CREATE SCHEMA hrms;
CREATE TABLE hrms.departments (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    company_id uuid,
    name       text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, company_id, name),
    FOREIGN KEY (tenant_id, company_id) REFERENCES tenancy.companies (tenant_id, id)
);
CREATE TABLE hrms.employees (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    company_id    uuid,
    department_id uuid,
    user_id       uuid,
    first_name    text NOT NULL,
    last_name     text NOT NULL,
    email         text NOT NULL,
    job_title     text,
    hired_on      date NOT NULL DEFAULT current_date,
    salary        numeric(12, 2) CHECK (salary >= 0),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_leave', 'left')),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email),
    FOREIGN KEY (tenant_id, company_id) REFERENCES tenancy.companies (tenant_id, id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES hrms.departments (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES core.users (tenant_id, id)
);
CREATE INDEX ON hrms.employees (tenant_id, department_id);
