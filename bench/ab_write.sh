#!/usr/bin/env bash
# Server builds side by side on P1's write (bench/http_read.sh's workload: one row,
# return=minimal, a random tenant's token): each round runs pgbench's 5-statement RLS write (the
# baseline), then each build alone under wrk (their order reversed every other round), and prints
# each build's ratio to that round's baseline and its CPU per request, PostgreSQL's (the backends
# of its pool) and its own, from /proc. On a shared, busy machine the ratio of one short run
# swings widely; compare builds over several rounds, not one run against another day's.
# usage: bench/ab_write.sh seconds connections rounds NAME=path/to/tenancy-api ...
# Needs a cluster at $PGPORT with the tenancy extension; rebuilds the database tenancy_bench
# (bench/dataset.sh) unless BENCH_DATASET=keep.
source "$(dirname "$0")/../scripts/env.sh"
SECONDS_PER_RUN=$1; C=$2; ROUNDS=$3; shift 3
BENCH_PORT=${BENCH_PORT:-3931}
WORK=$(mktemp -d)
# measure() runs in a subshell: the server's pid goes through a file.
trap '[ -s "$WORK/api.pid" ] && kill "$(cat "$WORK/api.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT
DB=tenancy_bench
[ "${BENCH_DATASET:-}" = keep ] || source "$ROOT/bench/dataset.sh"
source "$ROOT/bench/wrk_scripts.sh"
export PGRST_JWT_SECRET=bench-secret-bench-secret-bench-secret
cargo build -q --release -p tenancy-api   # wrk_scripts signs the tokens with it
wrk_scripts "$WORK" "$DB"
{
    echo '\set t random(1, 1000)'
    echo '\set id random(1000000000000, 999999999999999)'
    echo '\set category :id % 10'
    pgbench_write
} >"$WORK/pgw.sql"

ticks() { # user + system clock ticks of these processes
    local t=0 p
    for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
    echo $t
}
per_request() { awk -v d="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", d / hz * 1e6 / n }'; }

measure() { # binary baseline-tps -> "ratio pg-us api-us"
    PGRST_DB_URI="postgres://bench_service@127.0.0.1:$PGPORT/$DB" PGRST_DB_SCHEMAS=bench \
        PGRST_SERVER_PORT=$BENCH_PORT PGRST_DB_POOL=${BENCH_POOL:-4} RUST_LOG=warn "$1" >"$WORK/api.log" 2>&1 &
    API_PID=$!
    echo $API_PID >"$WORK/api.pid"
    until curl -sf "http://127.0.0.1:$BENCH_PORT/health" >/dev/null; do sleep 0.2; done
    # warm: the pool's connections open and their statements prepared
    wrk -t2 -c"$C" -d2s -s "$WORK/write.lua" "http://127.0.0.1:$BENCH_PORT" >/dev/null
    local pids pg api
    pids=$(psql -X -At -d postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DB' AND usename = 'bench_service'")
    pg=$(ticks $pids); api=$(ticks $API_PID)
    wrk -t2 -c"$C" -d"${SECONDS_PER_RUN}s" -s "$WORK/write.lua" "http://127.0.0.1:$BENCH_PORT" >"$WORK/wrk"
    pg=$(( $(ticks $pids) - pg )); api=$(( $(ticks $API_PID) - api ))
    kill $API_PID; wait $API_PID 2>/dev/null || true
    : >"$WORK/api.pid"
    local n rps
    n=$(awk '/requests in/ {print $1}' "$WORK/wrk")
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$WORK/wrk")
    echo "$(awk -v a="$rps" -v b="$2" 'BEGIN { printf "%.3f", a / b }') $(per_request $pg "$n") $(per_request $api "$n")"
}

printf 'P1 write, %s s per run, %s connections: per build, / the 5-statement transaction; CPU µs per request (PostgreSQL, server)\n' \
    "$SECONDS_PER_RUN" "$C"
for r in $(seq 1 "$ROUNDS"); do
    builds=("$@")
    [ $((r % 2)) = 0 ] && mapfile -t builds < <(printf '%s\n' "$@" | tac)
    base=$(pgbench -n -M prepared -c "$C" -j 2 -T "$SECONDS_PER_RUN" -f "$WORK/pgw.sql" -U bench_service $DB 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    line=$(printf 'round %s  pgbench %6.0f tps' "$r" "$base")
    for build in "${builds[@]}"; do
        read -r ratio pg api <<<"$(measure "${build#*=}" "$base")"
        line="$line | ${build%%=*} $ratio ${pg}/${api}"
    done
    echo "$line"
done
