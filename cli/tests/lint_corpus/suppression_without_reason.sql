-- expect: invalid-suppression at 4:1
-- expect: unprotected-table at 5:14
CREATE SCHEMA geo;
-- tenancy-lint: allow unprotected-table
CREATE TABLE geo.countries (code text PRIMARY KEY, name text NOT NULL);
