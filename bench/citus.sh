#!/usr/bin/env bash
# Issue 14's benchmark: one tenant's GET and POST through the Citus coordinator against the
# single-node product, in one run, on the reference workload (bench/dataset.sh: 1,000 tenants
# x 1,000 rows; on Citus distributed by tenant over two workers). Both servers are the same
# release build with the same pool; wrk runs each workload against each in turn. Then the same
# five-statement transaction straight to PostgreSQL (pgbench), to show where the time goes: the
# coordinator's hop to a worker, not the HTTP layer; and that read sent to the worker holding the
# tenant's shard instead of the coordinator (Citus's queries from any node). Three nodes share
# two cores here.
# usage: [BENCH_API=path/to/tenancy-api] bench/citus.sh [seconds per run, default 10] [connections, default 8]
source "$(dirname "$0")/../scripts/env.sh"
SECONDS_PER_RUN=${1:-10}
C=${2:-8}
BENCH_PORT=${BENCH_PORT:-3901}
CITUS_PORT=${TENANCY_CITUS_PORT:-54331}
WORK=$(mktemp -d)
trap 'kill $SINGLE_PID $CITUS_PID 2>/dev/null; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
# a cluster already running at $PGPORT (a second checkout's own) is used as it is
psql -X -q -d postgres -c "SELECT 1" >/dev/null 2>&1 || TENANCY_API=0 "$ROOT/scripts/up" >/dev/null
if [ -f "$DEV/api.pid" ]; then kill "$(cat "$DEV/api.pid")" 2>/dev/null || true; fi
TENANCY_API=0 "$ROOT/scripts/up-citus" >/dev/null
cargo build -q --release -p tenancy-api   # wrk_scripts signs the tokens with it
# BENCH_API: another build of the server to measure (e.g. main's, against a change)
API=${BENCH_API:-$ROOT/target/release/tenancy-api}
source "$ROOT/bench/wrk_scripts.sh"

step "the reference workload on one node"
source "$ROOT/bench/dataset.sh"
step "the reference workload on Citus (distributed by protect)"
for i in 0 1 2; do
    PGPORT=$((CITUS_PORT + i)) psql -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
done
TENANCY_API=0 PGDATABASE=$DB "$ROOT/scripts/up-citus" >/dev/null   # distributed: protect spreads the bench table
(export PGPORT=$CITUS_PORT BENCH_DB_READY=1; source "$ROOT/bench/dataset.sh"
 psql -d $DB -c "ALTER ROLE bench_reader LOGIN")   # Citus connects to the workers as the request's role

SECRET=bench-secret-bench-secret-bench-secret
export PGRST_DB_SCHEMAS=bench PGRST_JWT_SECRET=$SECRET PGRST_DB_POOL=${BENCH_POOL:-4} RUST_LOG=warn
start_server() { # name, database port, http port
    PGRST_DB_URI="postgres://bench_service@127.0.0.1:$2/$DB" PGRST_SERVER_PORT=$3 \
        "$API" >"$WORK/$1.log" 2>&1 &
    until curl -sf "http://127.0.0.1:$3/health" >/dev/null; do sleep 0.2; done
    mkdir -p "$WORK/$1"
    PGPORT=$2 wrk_scripts "$WORK/$1" "$DB"
}
start_server single "$PGPORT" "$BENCH_PORT"; SINGLE_PID=$!
start_server citus "$CITUS_PORT" $((BENCH_PORT + 1)); CITUS_PID=$!

wrk_run() { # name, http port, script -> "req/s p50 p99"
    wrk -t2 -c"$C" -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/$1/$3.lua" "http://127.0.0.1:$2" >"$WORK/wrk"
    grep -q "Non-2xx" "$WORK/wrk" && grep "Non-2xx" "$WORK/wrk" >&2
    awk '/^Requests\/sec/ { rps = $2 }
         $1 == "50%" || $1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else { sub(/s/, "", v); v *= 1000 } p[$1] = v }
         END { printf "%.0f %.2f %.2f", rps, p["50%"], p["99%"] }' "$WORK/wrk"
}
READ_BY_TENANT='SELECT json_agg(r) FROM (SELECT id, title, amount FROM bench.items WHERE tenant_id = :tenant AND category = :c ORDER BY id LIMIT 50) r;'
pgbench_tps() { # database port, pgbench script -> tps
    PGPORT=$1 pgbench -n -M prepared -c "$C" -j 2 -T "$SECONDS_PER_RUN" -f "$2" -U bench_service $DB 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
pgbench_run() { # database port, read|read_by_tenant|write -> tps
    {
        echo '\set t random(1, 1000)'
        echo '\set c random(0, 9)'
        echo '\set id random(1000000000000, 999999999999999)'
        echo 'BEGIN;'
        echo 'SELECT t.id AS tenant FROM bench.tenant_numbers t, tenancy.enter_tenant(t.id) WHERE t.n = :t \gset'
        echo 'SET LOCAL ROLE bench_reader;'
        if [ "$2" = read ]; then
            echo 'SELECT json_agg(r) FROM (SELECT id, title, amount FROM bench.items WHERE category = :c ORDER BY id LIMIT 50) r;'
        elif [ "$2" = read_by_tenant ]; then
            echo "$READ_BY_TENANT"
        else
            echo "INSERT INTO bench.items (id, category, title, amount) VALUES (:id, :c, 'new', 1);"
        fi
        echo 'COMMIT;'
    } >"$WORK/pg.sql"
    pgbench_tps "$1" "$WORK/pg.sql"
}

printf '\nCitus (coordinator + 2 workers) against one node, %ss per run, %s connections\n' "$SECONDS_PER_RUN" "$C"
printf '%-14s %-34s %9s %9s %7s %7s %7s\n' what path "one node" Citus ratio "p50 1" "p50 C"
for what in read read_by_tenant write; do
    read -r s_rps s_p50 _ <<<"$(wrk_run single "$BENCH_PORT" "$what")"
    read -r c_rps c_p50 _ <<<"$(wrk_run citus $((BENCH_PORT + 1)) "$what")"
    printf '%-14s %-34s %9.0f %9.0f %7.2f %7s %7s\n' "$what" "GET/POST over HTTP (wrk)" "$s_rps" "$c_rps" \
        "$(awk -v a="$c_rps" -v b="$s_rps" 'BEGIN { print a / b }')" "$s_p50" "$c_p50"
    s_tps=$(pgbench_run "$PGPORT" "$what"); c_tps=$(pgbench_run "$CITUS_PORT" "$what")
    printf '%-14s %-34s %9.0f %9.0f %7.2f\n' "$what" "the transaction in SQL (pgbench)" "$s_tps" "$c_tps" \
        "$(awk -v a="$c_tps" -v b="$s_tps" 'BEGIN { print a / b }')"
done

# Citus's answer to the coordinator's limit, in SQL: the same read sent straight to the worker
# that holds the tenant's shard (its tenants only, on both sides), against the coordinator.
on_worker1=$(PGPORT=$CITUS_PORT psql -X -At -d $DB -c "
    SELECT string_agg(quote_literal(t.id::text), ',') FROM bench.tenant_numbers t
    WHERE (SELECT p.groupid FROM pg_dist_placement p
           WHERE p.shardid = get_shard_id_for_distribution_column('bench.items', t.id)) = 1")
{
    echo "\\set k random(1, $(tr ',' '\n' <<<"$on_worker1" | wc -l))"
    echo '\set c random(0, 9)'
    echo 'BEGIN;'
    echo "SELECT (ARRAY[$on_worker1])[:k] AS tenant \\gset"
    echo 'SELECT tenancy.enter_tenant(:tenant);'
    echo 'SET LOCAL ROLE bench_reader;'
    echo "$READ_BY_TENANT"
    echo 'COMMIT;'
} >"$WORK/worker1.sql"
via=$(pgbench_tps "$CITUS_PORT" "$WORK/worker1.sql"); direct=$(pgbench_tps $((CITUS_PORT + 1)) "$WORK/worker1.sql")
printf '%-14s %-34s %9.0f %9.0f %7.2f   (the coordinator, the shard'"'"'s worker; one node: %.0f)\n' read_by_tenant \
    "worker1's tenants in SQL (pgbench)" "$via" "$direct" "$(awk -v a="$direct" -v b="$via" 'BEGIN { print a / b }')" \
    "$(pgbench_run "$PGPORT" read_by_tenant)"
