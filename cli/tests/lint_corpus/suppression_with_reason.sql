-- expect: clean
CREATE SCHEMA geo;
-- tenancy-lint: allow unprotected-table -- ISO country codes: the same for every tenant, no tenant_id
CREATE TABLE geo.countries (code text PRIMARY KEY, name text NOT NULL);
CREATE INDEX countries_name ON hrms.employees (tenant_id, last_name); -- tenancy-lint: allow index-without-concurrently -- 40 rows per tenant at most
