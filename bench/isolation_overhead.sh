#!/usr/bin/env bash
# P2 and P4 of ../../shared/PERFORMANCE.md, at the SQL level (no HTTP server involved):
#  - the reference workload (1,000 tenants x 1,000 rows, one protected table) read through
#    tenancy (enter_tenant + forced RLS + module check) versus the same transaction with RLS
#    bypassed and a hand-written WHERE tenant_id = ..., both with pgbench, prepared, same run;
#  - the time to create 1,000 tenants with their modules.
# Prints one table of ratios. Uses the dev stack (scripts/up) and its own database.
# usage: bench/isolation_overhead.sh [seconds per run, default 20] [clients, default 8]
#        (WARMUP=15 ROUNDS=3 in the environment change the warm-up and the rounds)
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

# Each backend caches what it learnt about the tenants it entered (src/entitlements.rs); a
# pooled server runs warm, so the first WARMUP seconds of every run (every backend meeting
# the 1,000 tenants for the first time) are left out: tps is the mean of the later 5 s
# intervals. The three shapes take turns, ROUNDS times, and each reports its median.
WARMUP=${WARMUP:-15}
ROUNDS=${ROUNDS:-3}
run() { # script user -> tps after the warm-up
    pgbench -n -M prepared -c "$CLIENTS" -j 2 -T $((WARMUP + SECONDS_PER_RUN)) -P 5 -f "$WORK/$1.sql" -U "$2" $DB 2>&1 \
        | awk -v w="$WARMUP" '$1 == "progress:" && $2 + 0 > w { sum += $4; n++ } END { printf "%.1f\n", sum / n }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for round in $(seq 1 "$ROUNDS"); do
    run tenancy bench_service >>"$WORK/tenancy.tps"
    run bypass5 bench_bypass >>"$WORK/bypass5.tps"
    run bypass3 bench_bypass >>"$WORK/bypass3.tps"
done
tenancy=$(median <"$WORK/tenancy.tps")
bypass5=$(median <"$WORK/bypass5.tps")
bypass3=$(median <"$WORK/bypass3.tps")

printf '\nreference read, c=%s, %ss measured after %ss of warm-up, median of %s rounds, pgbench -M prepared (same run)\n' \
    "$CLIENTS" "$SECONDS_PER_RUN" "$WARMUP" "$ROUNDS"
printf '%-62s %10s %8s\n' "transaction" "tps" "ratio"
printf '%-62s %10.0f %8.2f\n' "tenancy: BEGIN; enter_tenant; SET LOCAL ROLE; SELECT (RLS); COMMIT" "$tenancy" 1
printf '%-62s %10.0f %8.2f\n' "bypass, same 5 statements, WHERE tenant_id by hand" "$bypass5" "$(awk -v a="$bypass5" -v b="$tenancy" 'BEGIN { print a / b }')"
printf '%-62s %10.0f %8.2f\n' "bypass, BEGIN; SELECT ... WHERE tenant_id = ...; COMMIT" "$bypass3" "$(awk -v a="$bypass3" -v b="$tenancy" 'BEGIN { print a / b }')"
printf '\nP2 isolation overhead (tenancy vs bypass, same shape): %.1f%% (goal <= 5%%)\n' "$(awk -v a="$tenancy" -v b="$bypass5" 'BEGIN { print (1 - a / b) * 100 }')"
printf 'P4 creating 1,000 tenants with a module: %.2f s (goal <= 5 s)\n' "$create_secs"
