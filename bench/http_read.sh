#!/usr/bin/env bash
# P1 (read) of ../../shared/PERFORMANCE.md: the REST server under wrk, against the same
# transaction sent straight to PostgreSQL by pgbench (prepared; five awaited round trips,
# and pipelined), all in the same run on the reference workload. The server is a release
# build with a pool sized to the cores. Prints req/s, p50, p99 and the ratios.
# usage: bench/http_read.sh [seconds per run, default 15] [connections, default "8 32"]
source "$(dirname "$0")/../scripts/env.sh"
SECONDS_PER_RUN=${1:-15}
CONNECTIONS=${2:-"8 32"}
BENCH_PORT=${BENCH_PORT:-3901}
WORK=$(mktemp -d)
trap 'kill $API_PID 2>/dev/null; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
TENANCY_API=0 "$ROOT/scripts/up" >/dev/null
source "$ROOT/bench/dataset.sh"
cargo build -q --release -p tenancy-api

SECRET=bench-secret-bench-secret-bench-secret
export PGRST_DB_URI="postgres://bench_service@127.0.0.1:$PGPORT/$DB" PGRST_DB_SCHEMAS=bench \
       PGRST_JWT_SECRET=$SECRET PGRST_SERVER_PORT=$BENCH_PORT PGRST_DB_POOL=${BENCH_POOL:-4} RUST_LOG=warn
"$ROOT/target/release/tenancy-api" >"$WORK/api.log" 2>&1 &
API_PID=$!
until curl -sf "http://127.0.0.1:$BENCH_PORT/health" >/dev/null; do sleep 0.2; done

{
    echo "tokens = {"
    for id in $(psql -X -Atd $DB -c "SELECT id FROM bench.tenant_numbers ORDER BY n"); do
        printf '"%s",\n' "$("$ROOT/target/release/tenancy-api" token "$id" bench_reader)"
    done
    cat <<'LUA'
}
request = function()
    local path = "/items?select=id,title,amount&category=eq." .. math.random(0, 9) .. "&order=id&limit=50"
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                                      ["Accept-Profile"] = "bench" })
end
LUA
} >"$WORK/read.lua"

for pipelined in 0 1; do
    {
        echo '\set t random(1, 1000)'
        echo '\set c random(0, 9)'
        [ $pipelined = 1 ] && echo '\startpipeline'
        cat <<'SQL'
BEGIN;
SELECT tenancy.enter_tenant(id) FROM bench.tenant_numbers WHERE n = :t;
SET LOCAL ROLE bench_reader;
SELECT json_agg(r) FROM (SELECT id, title, amount FROM bench.items WHERE category = :c ORDER BY id LIMIT 50) r;
COMMIT;
SQL
        [ $pipelined = 1 ] && echo '\endpipeline'
    } >"$WORK/pg$pipelined.sql"
done

pgbench_run() { # script clients -> "tps p50 p99" (ms)
    pgbench -n -M prepared -c "$2" -j 2 -T "$SECONDS_PER_RUN" -r -l --log-prefix="$WORK/log" \
        -f "$WORK/$1.sql" -U bench_service $DB >"$WORK/out" 2>/dev/null
    local tps; tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/out")
    # per-transaction latencies (µs, third column) from the logs
    local pct; pct=$(cat "$WORK"/log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')
    rm -f "$WORK"/log.*
    echo "$tps $pct"
}
wrk_ms() { # wrk's "50%   1.23ms" -> 1.23
    awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } printf "%.2f", v }' "$WORK/wrk"
}

printf '\nP1 read, %ss per run, same run (req/s; latency ms)\n' "$SECONDS_PER_RUN"
printf '%-4s %-46s %9s %7s %7s %14s %12s\n' c "what" "req/s" p50 p99 "/ pipelined" "/ 5 trips"
for c in $CONNECTIONS; do
    read -r t5 p5a p5b <<<"$(pgbench_run pg0 "$c")"
    read -r tp ppa ppb <<<"$(pgbench_run pg1 "$c")"
    wrk -t2 -c"$c" -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/read.lua" "http://127.0.0.1:$BENCH_PORT" >"$WORK/wrk"
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$WORK/wrk")
    errors=$(grep -c "Non-2xx" "$WORK/wrk" || true)
    printf '%-4s %-46s %9.0f %7s %7s %14s %12s\n' "$c" "pgbench, 5 statements awaited one by one" "$t5" "$p5a" "$p5b" "" ""
    printf '%-4s %-46s %9.0f %7s %7s %14s %12s\n' "$c" "pgbench, the same 5 statements pipelined" "$tp" "$ppa" "$ppb" "" ""
    printf '%-4s %-46s %9.0f %7s %7s %14.2f %12.2f\n' "$c" "tenancy-api over HTTP (wrk)" "$rps" "$(wrk_ms 50%)" "$(wrk_ms 99%)" \
        "$(awk -v a="$rps" -v b="$tp" 'BEGIN { print a / b }')" "$(awk -v a="$rps" -v b="$t5" 'BEGIN { print a / b }')"
    [ "$errors" = 0 ] || { echo "wrk saw non-2xx responses:"; grep -A1 Non-2xx "$WORK/wrk"; }
done
printf '\nGoal P1: >= 0.6 x the pipelined ceiling.\n'
