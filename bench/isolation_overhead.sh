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
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$ROOT/scripts/up" >/dev/null
source "$ROOT/bench/dataset.sh"

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
