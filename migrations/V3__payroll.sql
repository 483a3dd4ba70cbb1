SELECT tenancy.install_module($${
    "key": "payroll", "name": "Payroll", "version": "1.0.0", "platform": ">=0.1",
    "description": "Payslips for employees", "icon": "banknote", "sort_order": 20,
    "requires": ["hrms"], "tier": "standard",
    "permissions": ["payroll:read", "payroll:run"],
    "config": {"currency": "USD", "pay_day": 25, "payslip_prefix": "PAY"},
    "features": {"bonuses": false, "tax_reports": true}
}$$);

CREATE SCHEMA payroll;
CREATE TABLE payroll.payslips (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    employee_id  uuid NOT NULL,
    period_start date NOT NULL,
    period_end   date NOT NULL CHECK (period_end >= period_start),
    gross        numeric(12, 2) NOT NULL CHECK (gross >= 0),
    tax          numeric(12, 2) NOT NULL DEFAULT 0,
    net          numeric(12, 2) GENERATED ALWAYS AS (gross - tax) STORED,
    currency     text NOT NULL DEFAULT 'USD',
    issued_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, employee_id, period_start),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES hrms.employees (tenant_id, id)
);
