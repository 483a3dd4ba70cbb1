#!/usr/bin/env bash
# Sign-in under wrk (issue 13): the password grant (argon2id at the README's parameters), the
# refresh-token grant (each connection follows its own rotating chain: a token is never sent
# twice), and a REST read with the issued token (10 rows of employees) for comparison; every
# run with one request in flight per connection. Prints req/s, p50 and p99, and the ratios
# refresh/read and sign-in/read. Refresh and read take turns ROUNDS times (default 5) and
# each reports its median: on a machine shared with other work the load moves between runs
# of a few seconds, and a refresh measured apart from its read says nothing.
# Latency on a shared machine includes the queue other work makes; CPU per request does not
# (much): each run also reports the server's and PostgreSQL's CPU time per request, from /proc,
# when they run here (the server's pid: BENCH_API_PID or .dev/api.pid; PostgreSQL: every
# process of the cluster PGPORT names: backends, WAL writer, the real-time walsender).
# Against a running server with sign-in on: the dev stack's (scripts/up: its demo admin and
# .dev/demo_password) or BENCH_URL, BENCH_EMAIL, BENCH_PASSWORD.
# usage: bench/sign_in.sh [seconds per run, default 10] [connections, default 2]
source "$(dirname "$0")/../scripts/env.sh"
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-2}
ROUNDS=${ROUNDS:-5}
URL=${BENCH_URL:-http://127.0.0.1:$API_PORT}
EMAIL=${BENCH_EMAIL:-admin@acme.example}
PASSWORD=${BENCH_PASSWORD:-$(cat "$DEV/demo_password")}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null

credentials="{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}"
sign_in() { curl -sf "$URL/auth/v1/token?grant_type=password" -H "Content-Type: application/json" -d "$credentials"; }
field() { sed -E "s/.*\"$1\":\"([^\"]+)\".*/\\1/"; }
ACCESS=$(sign_in | field access_token) || { echo "cannot sign in as $EMAIL at $URL" >&2; exit 1; }

# One session per connection and round (a chain's tokens are spent): its refresh token goes to
# one wrk thread.
new_chains() {
    {
        echo "chains = {"
        for _ in $(seq "$CONNECTIONS"); do printf '"%s",\n' "$(sign_in | field refresh_token)"; done
        echo "}"
    } >"$WORK/chains.lua"
    cat "$WORK/chains.lua" "$WORK/refresh_chain.lua" >"$WORK/refresh.lua"
}
cat >"$WORK/refresh_chain.lua" <<'LUA'
local next_chain = 1
setup = function(thread)
    thread:set("token", chains[next_chain])
    next_chain = next_chain + 1
end
request = function()
    return wrk.format("POST", "/auth/v1/token?grant_type=refresh_token",
        { ["Content-Type"] = "application/json" }, '{"refresh_token": "' .. token .. '"}')
end
response = function(status, headers, body)
    if status ~= 200 then error("refresh answered " .. status .. ": " .. body) end
    token = body:match('"refresh_token":"([^"]+)"')
end
LUA
cat >"$WORK/sign_in.lua" <<LUA
request = function()
    return wrk.format("POST", "/auth/v1/token?grant_type=password", { ["Content-Type"] = "application/json" }, '$credentials')
end
LUA
cat >"$WORK/read.lua" <<LUA
request = function()
    return wrk.format("GET", "/employees?select=id,first_name&limit=10",
        { ["Authorization"] = "Bearer $ACCESS", ["Accept-Profile"] = "hrms" })
end
LUA

API_PID=${BENCH_API_PID:-$(cat "$DEV/api.pid" 2>/dev/null || true)}
POSTMASTER=$(head -1 "$(psql -X -Atc 'SHOW data_directory' 2>/dev/null)/postmaster.pid" 2>/dev/null || true)
# CPU ticks (utime + stime, after the command name, which may hold spaces) of the pids given.
ticks() { for pid in "$@"; do sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null; done | awk '{ t += $12 + $13 } END { print t + 0 }'; }
cpu_ticks() { echo "$(ticks $API_PID) $(ticks $(pgrep -P "${POSTMASTER:-0}"))"; }

# wrk's summary and the CPU per request as "req/s p50_ms p99_ms non-2xx server_us postgres_us"
run() {
    read -r api_before pg_before < <(cpu_ticks)
    wrk -t "$CONNECTIONS" -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" --latency -s "$WORK/$1.lua" "$URL" >"$WORK/$1.out" 2>&1
    read -r api_after pg_after < <(cpu_ticks)
    awk -v api=$((api_after - api_before)) -v pg=$((pg_after - pg_before)) -v hz="$(getconf CLK_TCK)" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        / requests in / { requests = $1 }
        /Requests\/sec/ { rps = $2 }
        / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) }
        /Non-2xx/ { bad = $NF }
        END { us = 1e6 / hz / (requests > 0 ? requests : 1)
              printf "%.1f %.2f %.2f %d %.0f %.0f\n", rps, p50, p99, bad, api * us, pg * us }' "$WORK/$1.out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
show() { printf '%-14s %10s %10s %10s %8s %10s %12s\n' "$@"; }
show run req/s p50_ms p99_ms non-2xx server_us postgres_us
read -r rps p50 p99 bad api_us pg_us < <(run sign_in)
show sign_in "$rps" "$p50" "$p99" "$bad" "$api_us" "$pg_us"
sign_in_p50=$p50
for round in $(seq "$ROUNDS"); do
    new_chains
    for name in refresh read; do
        read -r rps p50 p99 bad api_us pg_us < <(run $name)
        show "$name $round" "$rps" "$p50" "$p99" "$bad" "$api_us" "$pg_us"
        echo "$rps $p50 $p99 $api_us $pg_us" >>"$WORK/$name.rounds"
        eval "${name}_round_p50=$p50"
    done
    awk -v r="$refresh_round_p50" -v q="$read_round_p50" 'BEGIN { printf "%.2f\n", r / q }' >>"$WORK/ratio.rounds"
done
medians() { for column in 1 2 3 4 5; do cut -d' ' -f$column "$WORK/$1.rounds" | median; done | paste -sd' '; }
read -r refresh_rps refresh_p50 refresh_p99 refresh_api refresh_pg < <(medians refresh)
read -r read_rps read_p50 read_p99 read_api read_pg < <(medians read)
show "refresh median" "$refresh_rps" "$refresh_p50" "$refresh_p99" "" "$refresh_api" "$refresh_pg"
show "read median" "$read_rps" "$read_p50" "$read_p99" "" "$read_api" "$read_pg"
awk -v s="$sign_in_p50" -v r="$refresh_p50" -v q="$read_p50" -v rr="$refresh_rps" -v qr="$read_rps" \
    -v rc="$((refresh_api + refresh_pg))" -v qc="$((read_api + read_pg))" \
    -v paired="$(median <"$WORK/ratio.rounds")" -v rounds="$(sort -n "$WORK/ratio.rounds" | paste -sd' ')" \
    'BEGIN { printf "p50 refresh/read: %.2f, the median of the rounds'"'"' ratios (%s)\n", paired, rounds
             if (qc > 0) printf "CPU per request refresh/read: %.2f (%d us against %d us, server and PostgreSQL)\n", rc / qc, rc, qc
             printf "medians: p50 refresh/read %.2f, req/s refresh/read %.2f; p50 sign-in/read %.2f\n", r / q, rr / qr, s / q }'
