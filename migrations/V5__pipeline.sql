SELECT tenancy.install_module($${
    "key": "pipeline", "name": "Sales pipeline", "version": "1.0.0", "platform": ">=0.1",
    "description": "Deals from lead to won, and their invoices", "icon": "trending-up", "sort_order": 40,
    "tier": "standard",
    "permissions": ["pipeline:read", "pipeline:write"],
    "config": {"currency": "USD", "tax_rate": 0, "invoice_prefix": "INV", "payment_terms_days": 30},
    "features": {"forecasting": false}
}$$);

CREATE SCHEMA pipeline;
CREATE TABLE pipeline.deals (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    company_id     uuid,
    title          text NOT NULL,
    amount         numeric(14, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    currency       text NOT NULL DEFAULT 'USD',
    stage          text NOT NULL DEFAULT 'lead' CHECK (stage IN ('lead', 'qualified', 'proposal', 'won', 'lost')),
    owner_id       uuid,
    expected_close date,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES tenancy.companies (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES core.users (tenant_id, id)
);
CREATE INDEX ON pipeline.deals (tenant_id, stage);
