-- expect: bypassrls-granted at 3:29
-- expect: bypassrls-granted at 4:27
CREATE ROLE reporting LOGIN BYPASSRLS;
ALTER ROLE reporting WITH BYPASSRLS;
CREATE ROLE auditor NOLOGIN NOBYPASSRLS;
