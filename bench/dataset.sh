# The reference workload of ../../shared/PERFORMANCE.md, shared by the benchmarks: a database
# tenancy_bench with 1,000 tenants x 1,000 rows in one protected table `bench.items` (module
# `catalog`), a tenant's rows spread over the whole heap. Sourced after scripts/env.sh;
# sets create_secs (the time to create the 1,000 tenants with their module).
# BENCH_DB_READY=1: the (empty) database exists already, e.g. on every node of a Citus cluster.
DB=tenancy_bench
psql() { PGOPTIONS="-c client_min_messages=warning" command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
[ "${BENCH_DB_READY:-0}" = 1 ] || psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -d $DB <<'SQL'
CREATE EXTENSION IF NOT EXISTS tenancy;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_service') THEN
        CREATE ROLE bench_service LOGIN NOINHERIT;
        CREATE ROLE bench_reader NOLOGIN;
        CREATE ROLE bench_bypass LOGIN BYPASSRLS;
    END IF;
END $$;
GRANT tenancy_service, bench_reader TO bench_service;
SELECT tenancy.install_module('{"key": "catalog", "name": "Catalog", "version": "1.0.0", "platform": ">=0.1"}');
CREATE SCHEMA bench;
CREATE TABLE bench.tenant_numbers (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE bench.items (
    tenant_id uuid NOT NULL, id bigint NOT NULL, category int NOT NULL, title text NOT NULL, amount numeric NOT NULL,
    PRIMARY KEY (tenant_id, id));
CREATE INDEX ON bench.items (tenant_id, category);
GRANT USAGE ON SCHEMA bench TO bench_reader, bench_bypass;
GRANT SELECT ON bench.items, bench.tenant_numbers TO bench_reader, bench_bypass;
GRANT INSERT ON bench.items TO bench_reader;
-- NOINHERIT: the service role reads the tenant number map as itself, before SET ROLE.
GRANT USAGE ON SCHEMA bench TO bench_service;
GRANT SELECT ON bench.tenant_numbers TO bench_service;
SQL

start=$(date +%s%N)
psql -d $DB -c "INSERT INTO bench.tenant_numbers
                SELECT n, tenancy.create_tenant('bench-' || n, 'Bench ' || n, 'free', '{}', '{catalog}')
                FROM generate_series(1, 1000) n"
create_secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { print (b - a) / 1e9 }')

# Rows of one tenant spread over the whole heap: insert row by row number, then tenant.
psql -d $DB -c "INSERT INTO bench.items
                SELECT t.id, i, i % 10, 'item ' || i, i * 1.5
                FROM generate_series(1, 1000) i, bench.tenant_numbers t ORDER BY i, t.n" \
            -c "SELECT tenancy.protect('bench.items', 'catalog')" -c "VACUUM ANALYZE bench.items"

