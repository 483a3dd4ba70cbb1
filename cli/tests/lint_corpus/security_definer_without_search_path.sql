-- expect: security-definer-without-search-path at 4:61
-- expect: security-definer-without-search-path at 8:30
CREATE SCHEMA crm;
CREATE FUNCTION crm.count_all() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1::bigint $$;
CREATE FUNCTION crm.pinned() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, crm
    AS $$ SELECT 1::bigint $$;
CREATE FUNCTION crm.invoker() RETURNS bigint LANGUAGE sql AS $$ SELECT 1::bigint $$;
ALTER FUNCTION crm.invoker() SECURITY DEFINER;
