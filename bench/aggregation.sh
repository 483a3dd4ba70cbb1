#!/usr/bin/env bash
# Cross-tenant aggregation: the time of tenancy.aggregate against the same aggregate written
# by hand as a superuser's GROUP BY (no RLS, no checks, plain columns out), on 1,000 tenants x
# 1,000 rows in one protected table with the reference workload's indexes (primary key
# (tenant_id, id), index (tenant_id, category): ../shared/PERFORMANCE.md). Each query runs once
# to warm up, then RUNS times, the queries of a shape taking turns in one session, timed by psql
# (\timing, output discarded); the median of each and their ratio are printed.
# Three shapes: everything (one group), by category (10 groups), per tenant (1,000 groups).
# aggregate also counts each group's tenants, so the GROUP BY is timed with count(DISTINCT
# tenant_id) too.
# PostgreSQL may run each query with parallel workers (both sides alike); `serial` as the
# second argument times everything with max_parallel_workers_per_gather = 0 instead, and
# `keep` as the third reuses the database of an earlier run (and the extension SQL it was made with).
# Uses the dev stack (scripts/up, extension installed) and its own database tenancy_bench_agg.
# usage: bench/aggregation.sh [runs, default 7] [parallel|serial] [keep]
source "$(dirname "$0")/../scripts/env.sh"
RUNS=${1:-7}
MODE=${2:-parallel}
KEEP=${3:-}
case $MODE in
    parallel) SESSION_OPTIONS="" ;;
    serial) SESSION_OPTIONS="-c max_parallel_workers_per_gather=0" ;;
    *) echo "usage: $0 [runs] [parallel|serial] [keep]" >&2; exit 2 ;;
esac
DB=tenancy_bench_agg
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
psql() { PGOPTIONS="-c client_min_messages=warning" command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ "$KEEP" != keep ] || ! psql -d $DB -Atc "SELECT FROM bench.items LIMIT 0" >/dev/null 2>&1; then
step "building $DB: 1,000 tenants x 1,000 rows"
psql -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
psql -d $DB >/dev/null <<'SQL'
CREATE EXTENSION tenancy;
SELECT tenancy.install_module('{"key": "catalog", "name": "Catalog", "version": "1.0.0", "platform": ">=0.1"}');
CREATE SCHEMA bench;
CREATE TABLE bench.tenant_numbers (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE bench.items (
    tenant_id uuid NOT NULL, id bigint NOT NULL, category int NOT NULL, title text NOT NULL, amount numeric NOT NULL,
    PRIMARY KEY (tenant_id, id));
INSERT INTO bench.tenant_numbers
SELECT n, tenancy.create_tenant('bench-' || n, 'Bench ' || n, 'free', '{}', '{catalog}') FROM generate_series(1, 1000) n;
-- a tenant's rows spread over the whole heap, as in bench/dataset.sh
INSERT INTO bench.items
SELECT t.id, i, i % 10, 'item ' || i, i * 1.5 FROM generate_series(1, 1000) i, bench.tenant_numbers t ORDER BY i, t.n;
CREATE INDEX items_tenant_category ON bench.items (tenant_id, category);
SELECT tenancy.protect('bench.items', 'catalog');
VACUUM ANALYZE bench.items;
SQL
fi

# name | tenancy.aggregate call | the superuser's GROUP BY | the same, counting tenants too (as aggregate does)
cat >"$WORK/shapes" <<'EOF'
overall|SELECT * FROM tenancy.aggregate('bench.items', '{count,sum(amount),avg(amount),max(amount)}')|SELECT count(*), sum(amount), avg(amount), max(amount) FROM bench.items|SELECT count(*), sum(amount), avg(amount), max(amount), count(DISTINCT tenant_id) FROM bench.items
by category|SELECT * FROM tenancy.aggregate('bench.items', '{count,sum(amount),avg(amount),max(amount)}', '{category}')|SELECT category, count(*), sum(amount), avg(amount), max(amount) FROM bench.items GROUP BY category ORDER BY category|SELECT category, count(*), sum(amount), avg(amount), max(amount), count(DISTINCT tenant_id) FROM bench.items GROUP BY category ORDER BY category
per tenant|SELECT * FROM tenancy.aggregate('bench.items', '{count,sum(amount),avg(amount),max(amount)}', per_tenant => true)|SELECT tenant_id, count(*), sum(amount), avg(amount), max(amount) FROM bench.items GROUP BY tenant_id ORDER BY tenant_id|SELECT tenant_id, count(*), sum(amount), avg(amount), max(amount), 1 FROM bench.items GROUP BY tenant_id ORDER BY tenant_id
EOF

# The medians of psql's "Time: x ms" lines for the three queries of a shape, run RUNS times in
# turn in one session (one warm-up each first), so that load on the machine hits all three.
medians_ms() {
    { echo '\o /dev/null'; printf '%s;\n' "$@"; echo '\timing on'; for _ in $(seq "$RUNS"); do printf '%s;\n' "$@"; done; } \
        | PGOPTIONS="-c client_min_messages=warning $SESSION_OPTIONS" command psql -X -q -v ON_ERROR_STOP=1 -d $DB \
        | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' >"$WORK/times"
    for q in $(seq 0 $(($# - 1))); do
        awk -v n=$# -v q=$q '(NR - 1) % n == q' "$WORK/times" | sort -n | awk '{ a[NR] = $1 } END { printf "%s ", a[int((NR + 1) / 2)] }'
    done
}

printf '\n1,000 tenants x 1,000 rows, median of %s runs (ms), %s\n' "$RUNS" \
    "$([ "$MODE" = serial ] && echo "no parallel workers" || echo "parallel workers allowed (both sides)")"
printf '%-12s %18s %18s %8s %26s %8s\n' "shape" "tenancy.aggregate" "superuser GROUP BY" "ratio" \
    "GROUP BY + tenants counted" "ratio"
while IFS='|' read -r name call plain counted; do
    read -r a b c <<<"$(medians_ms "$call" "$plain" "$counted")"
    printf '%-12s %18.1f %18.1f %8.2f %26.1f %8.2f\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')" \
        "$c" "$(awk -v a="$a" -v c="$c" 'BEGIN { print a / c }')"
done <"$WORK/shapes"
