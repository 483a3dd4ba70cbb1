-- expect: syntax-error at 3:58
CREATE SCHEMA crm;
CREATE FUNCTION crm.answer() RETURNS int LANGUAGE sql AS $$ SELECT 42;
SELECT tenancy.protect('crm.contacts', 'crm');
