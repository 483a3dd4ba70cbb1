#!/usr/bin/env bash
# P2 and P4 of ../../shared/PERFORMANCE.md, at the SQL level (no HTTP server involved):
#  - the reference workload (1,000 tenants x 1,000 rows, one protected table) read through
#    tenancy (enter_tenant + forced RLS + module check) versus the same transaction with RLS
#    bypassed and a hand-written WHERE tenant_id = ..., both with pgbench, prepared, same run;
#  - the time to create 1,000 tenants with their modules.
# Prints one table of ratios. Uses the dev stack (scripts/up) and its own database.
# usage: bench/isolation_overhead.sh [seconds per run, default 20] [clients, default 8]
source "$(dirname "$0")/../scripts/env.sh"
SECONDS_PER_RUN=${1:-20}
CLIENTS=${2:-8}
DB=tenancy_bench
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$ROOT/scripts/up" >/dev/null
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -d $DB <<'SQL'
CREATE EXTENSION tenancy;
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
    tenant_id uuid NOT NULL, id int NOT NULL, category int NOT NULL, title text NOT NULL, amount numeric NOT NULL,
    PRIMARY KEY (tenant_id, id));
CREATE INDEX ON bench.items (tenant_id, category);
GRANT USAGE ON SCHEMA bench TO bench_reader, bench_bypass;
GRANT SELECT ON bench.items, bench.tenant_numbers TO bench_reader, bench_bypass;
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

cat >"$WORK/tenancy.sql" <<'SQL'
\set t random(1, 1000)
\set c random(0, 9)
BEGIN;
SELECT tenancy.enter_tenant(id) FROM bench.tenant_numbers WHERE n = :t;
SET LOCAL ROLE bench_reader;
SELECT json_agg(r) FROM (SELECT id, title, amount FROM bench.items WHERE category = :c ORDER BY id LIMIT 50) r;
COMMIT;
SQL
cat >"$WORK/bypass5.sql" <<'SQL'
\set t random(1, 1000)
\set c random(0, 9)
BEGIN;
SELECT set_config('bench.tenant', id::text, true) FROM bench.tenant_numbers WHERE n = :t;
SET LOCAL ROLE bench_bypass;
SELECT json_agg(r) FROM (SELECT id, title, amount FROM bench.items WHERE tenant_id = current_setting('bench.tenant')::uuid AND category = :c ORDER BY id LIMIT 50) r;
COMMIT;
SQL
cat >"$WORK/bypass3.sql" <<'SQL'
\set t random(1, 1000)
\set c random(0, 9)
BEGIN;
SELECT json_agg(r) FROM (SELECT id, title, amount FROM bench.items WHERE tenant_id = (SELECT id FROM bench.tenant_numbers WHERE n = :t) AND category = :c ORDER BY id LIMIT 50) r;
COMMIT;
SQL

run() { # script user -> tps
    pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -f "$WORK/$1.sql" -U "$2" $DB 2>/dev/null \
        | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
tenancy=$(run tenancy bench_service)
bypass5=$(run bypass5 bench_bypass)
bypass3=$(run bypass3 bench_bypass)

printf '\nreference read, c=%s, %ss each, pgbench -M prepared (same run)\n' "$CLIENTS" "$SECONDS_PER_RUN"
printf '%-62s %10s %8s\n' "transaction" "tps" "ratio"
printf '%-62s %10.0f %8.2f\n' "tenancy: BEGIN; enter_tenant; SET LOCAL ROLE; SELECT (RLS); COMMIT" "$tenancy" 1
printf '%-62s %10.0f %8.2f\n' "bypass, same 5 statements, WHERE tenant_id by hand" "$bypass5" "$(awk -v a="$bypass5" -v b="$tenancy" 'BEGIN { print a / b }')"
printf '%-62s %10.0f %8.2f\n' "bypass, BEGIN; SELECT ... WHERE tenant_id = ...; COMMIT" "$bypass3" "$(awk -v a="$bypass3" -v b="$tenancy" 'BEGIN { print a / b }')"
printf '\nP2 isolation overhead (tenancy vs bypass, same shape): %.1f%% (goal <= 5%%)\n' "$(awk -v a="$tenancy" -v b="$bypass5" 'BEGIN { print (1 - a / b) * 100 }')"
printf 'P4 creating 1,000 tenants with a module: %.2f s (goal <= 5 s)\n' "$create_secs"
