-- One line per table holding tenancy data (the catalog and every protected table): its row
-- count and a digest of its rows in a stable order. Equal before and after an upgrade. Rows are
-- read as JSON without their NULL fields: a column the new version adds, still empty, changes
-- no row.
CREATE FUNCTION pg_temp.digest(tbl regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    EXECUTE format('SELECT count(*) || '' '' || coalesce(md5(string_agg(j, E''\n'' ORDER BY j)), ''-'') '
                   'FROM (SELECT jsonb_strip_nulls(to_jsonb(r))::text AS j FROM %s r) rows', tbl)
        INTO result;
    RETURN result;
END $$;
SELECT t::text || ' ' || pg_temp.digest(t)
FROM (SELECT c.oid::regclass AS t FROM pg_class c
      WHERE c.relnamespace = 'tenancy'::regnamespace AND c.relkind = 'r'
      UNION SELECT tbl FROM tenancy.protected_tables) tables
ORDER BY 1;
