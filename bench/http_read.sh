#!/usr/bin/env bash
# P1 of ../../shared/PERFORMANCE.md: the REST server under wrk, against the same transaction
# sent straight to PostgreSQL by pgbench (prepared; five awaited round trips, and pipelined),
# all in the same run on the reference workload: the read (50 rows of one tenant by category)
# and the write (one row, return=minimal). The server is a release build with a pool sized
# to the cores. Prints req/s, p50, p99 and the ratios; then P3: the read at half the highest
# throughput wrk reached, at a fixed rate (oha -q), and its p99.
# usage: bench/http_read.sh [seconds per run, default 15] [connections, default "8 32"]
source "$(dirname "$0")/../scripts/env.sh"
SECONDS_PER_RUN=${1:-15}
CONNECTIONS=${2:-"8 32"}
BENCH_PORT=${BENCH_PORT:-3901}
WORK=$(mktemp -d)
trap 'kill $API_PID 2>/dev/null; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
command -v oha >/dev/null || cargo install oha --locked --quiet   # a fixed request rate, for P3
TENANCY_API=0 "$ROOT/scripts/up" >/dev/null
# The dev stack's API reads a replication slot: its walsender would decode every write of the
# run and take CPU from both sides of the comparison. Stopped for the run (scripts/up restarts it).
if [ -f "$DEV/api.pid" ]; then kill "$(cat "$DEV/api.pid")" 2>/dev/null || true; fi
source "$ROOT/bench/dataset.sh"
source "$ROOT/bench/wrk_scripts.sh"
cargo build -q --release -p tenancy-api

SECRET=bench-secret-bench-secret-bench-secret
export PGRST_DB_URI="postgres://bench_service@127.0.0.1:$PGPORT/$DB" PGRST_DB_SCHEMAS=bench \
       PGRST_JWT_SECRET=$SECRET PGRST_SERVER_PORT=$BENCH_PORT PGRST_DB_POOL=${BENCH_POOL:-4} RUST_LOG=warn
"$ROOT/target/release/tenancy-api" >"$WORK/api.log" 2>&1 &
API_PID=$!
until curl -sf "http://127.0.0.1:$BENCH_PORT/health" >/dev/null; do sleep 0.2; done

wrk_scripts "$WORK" "$DB"

for pipelined in 0 1; do
    {
        echo '\set t random(1, 1000)'
        echo '\set id random(1000000000000, 999999999999999)'
        echo '\set category :id % 10'
        [ $pipelined = 1 ] && echo '\startpipeline'
        pgbench_write
        [ $pipelined = 1 ] && echo '\endpipeline'
    } >"$WORK/pgw$pipelined.sql"
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

report() { # what wrk-script pgbench-prefix c
    read -r t5 p5a p5b <<<"$(pgbench_run "${3}0" "$4")"
    read -r tp ppa ppb <<<"$(pgbench_run "${3}1" "$4")"
    wrk -t2 -c"$4" -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/$2.lua" "http://127.0.0.1:$BENCH_PORT" >"$WORK/wrk"
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$WORK/wrk")
    [ "$1" = read ] && echo "$rps" >>"$WORK/read_rps"
    printf '%-6s %-4s %-44s %9.0f %7s %7s\n' "$1" "$4" "pgbench, 5 statements awaited one by one" "$t5" "$p5a" "$p5b"
    printf '%-6s %-4s %-44s %9.0f %7s %7s\n' "$1" "$4" "pgbench, the same 5 statements pipelined" "$tp" "$ppa" "$ppb"
    printf '%-6s %-4s %-44s %9.0f %7s %7s %12.2f %10.2f\n' "$1" "$4" "tenancy-api over HTTP (wrk)" "$rps" "$(wrk_ms 50%)" "$(wrk_ms 99%)" \
        "$(awk -v a="$rps" -v b="$tp" 'BEGIN { print a / b }')" "$(awk -v a="$rps" -v b="$t5" 'BEGIN { print a / b }')"
    if grep -q "Non-2xx" "$WORK/wrk"; then grep "Non-2xx" "$WORK/wrk"; fi
}

printf '\nP1, %ss per run, same run (req/s; latency ms)\n' "$SECONDS_PER_RUN"
printf '%-6s %-4s %-44s %9s %7s %7s %12s %10s\n' what c "" "req/s" p50 p99 "/ pipelined" "/ 5 trips"
for c in $CONNECTIONS; do
    report read read pg "$c"
done
for c in $CONNECTIONS; do
    report write write pgw "$c"
done
printf '\nGoals: read >= 0.6 x the pipelined ceiling; write >= 0.8 x the 5-statement RLS transaction.\n'

# P3: the read at half the highest throughput above, at that fixed rate (a random category
# per request, one tenant's token), 8 connections. (oha's URL is a regex: [?] and [.] are literal.)
half=$(sort -n "$WORK/read_rps" | tail -1 | awk '{ printf "%d", $1 / 2 }')
token=$(sed -n '2s/[",]//gp' "$WORK/tokens.lua")
oha --no-tui --output-format json -q "$half" -z "${SECONDS_PER_RUN}s" -c 8 --rand-regex-url \
    -H "Authorization: Bearer $token" -H "Accept-Profile: bench" \
    "http://127.0.0.1:$BENCH_PORT/items[?]select=id,title,amount&category=eq[.][0-9]&order=id&limit=50" >"$WORK/oha.json"
python3 - "$WORK/oha.json" "$half" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["latencyPercentiles"]
codes = r.get("statusCodeDistribution", {})
print(f"\nP3 read at {sys.argv[2]} req/s (half the highest above): achieved {r['summary']['requestsPerSec']:.0f} req/s, "
      f"p50 {p['p50'] * 1000:.2f} ms, p99 {p['p99'] * 1000:.2f} ms (goal p99 <= 5 ms); statuses {codes}")
PY
