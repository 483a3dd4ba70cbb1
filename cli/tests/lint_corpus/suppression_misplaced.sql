-- expect: invalid-suppression at 6:1
-- expect: unused-suppression at 7:1
-- expect: unprotected-table at 9:14
-- expect: invalid-suppression at 10:1
CREATE SCHEMA geo;
-- tenancy-lint: allow no-such-rule -- typo in the rule id
-- tenancy-lint: allow unprotected-table -- a blank line below separates it from the statement

CREATE TABLE geo.countries (code text PRIMARY KEY, name text NOT NULL);
-- tenancy-lint: suppress everything
SELECT 1;
