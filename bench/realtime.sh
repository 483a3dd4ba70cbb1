#!/usr/bin/env bash
# Real-time (README "Real-time"; PERFORMANCE.md): commit-to-delivery latency (p50, p99) and the
# server's CPU per delivered message, with SUBSCRIBERS realtime-js clients across TENANTS
# tenants while pgbench commits RATE chat messages a second (one per transaction, random
# tenant). Each shape is SUBSCRIBERS:GROUPS (a group: subscribers who share tenant and claims,
# whose visibility check is one): BENCH_SHAPES, default "S:T S:S S/2:T" for the arguments —
#   groups = tenants   (subscribers of a tenant share one token: one check per tenant)
#   groups = subscribers (each subscriber its own `sub` claim: one check each)
#   half the subscribers, groups = tenants
# so the cost of the checks shows what it grows with. Also measured: the Node client's CPU (it
# must not be the bottleneck: its own CPU while measuring) and the server's RSS (sampled every RSS_EVERY seconds: first,
# last, largest). BENCH_RSS_LOG=file keeps the samples (seconds, kB), BENCH_API_LOG=file the
# server's log (BENCH_RUST_LOG=debug: a line per delivered batch).
# usage: bench/realtime.sh [seconds, default 20] [subscribers, default 1000] [tenants, default 100] [rate, default 1000]
# The 10-minute memory run: BENCH_SHAPES=1000:100 bench/realtime.sh 600
# BENCH_NO_UP=1 uses the running cluster as is; BENCH_PROFILE=debug skips the release build.
source "$(dirname "$0")/../scripts/env.sh"
SECONDS_PER_RUN=${1:-20}
SUBSCRIBERS=${2:-1000}
TENANTS=${3:-100}
RATE=${4:-1000}
PROFILE=${BENCH_PROFILE:-release}
BENCH_PORT=${BENCH_PORT:-3902}
SHAPES=${BENCH_SHAPES:-"$SUBSCRIBERS:$TENANTS $SUBSCRIBERS:$SUBSCRIBERS $((SUBSCRIBERS / 2)):$TENANTS"}
RSS_EVERY=${RSS_EVERY:-5}
SLOT=bench_realtime
SECRET=bench-secret-bench-secret-bench-secret
WORK=$(mktemp -d)
cleanup() {
    kill "${API_PID:-}" 2>/dev/null || true
    sleep 1
    [ -z "${BENCH_API_LOG:-}" ] || cp "$WORK/api.log" "$BENCH_API_LOG"
    psql -X -qAt -c "SELECT pg_drop_replication_slot('$SLOT') FROM pg_replication_slots WHERE slot_name = '$SLOT' AND NOT active" >/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

[ "${BENCH_NO_UP:-0}" = 1 ] || TENANCY_API=0 "$ROOT/scripts/up" >/dev/null
[ -d "$ROOT/tests/js/node_modules" ] || npm ci --prefix "$ROOT/tests/js" -s
cargo build -q $([ "$PROFILE" = release ] && echo --release) -p tenancy-api
API=$ROOT/target/$PROFILE/tenancy-api

step "making $TENANTS tenants with chat"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE IF NOT EXISTS public.bench_realtime_targets (n int PRIMARY KEY, tenant uuid, channel uuid);
DO \$\$
BEGIN
    FOR i IN (SELECT count(*) + 1 FROM public.bench_realtime_targets)::int .. $TENANTS LOOP
        PERFORM tenancy.create_tenant('bench-rt-' || i, 'bench rt ' || i, 'free', '{}', '{chat}');
        INSERT INTO public.bench_realtime_targets (n, tenant)
        SELECT i, id FROM tenancy.tenants WHERE slug = 'bench-rt-' || i;
    END LOOP;
END \$\$;
INSERT INTO chat.channels (tenant_id, name)
SELECT tenant, 'bench' FROM public.bench_realtime_targets ON CONFLICT DO NOTHING;
UPDATE public.bench_realtime_targets t SET channel = c.id
FROM chat.channels c WHERE c.tenant_id = t.tenant AND c.name = 'bench';
SQL
cat >"$WORK/insert.sql" <<SQL
\set n random(1, $TENANTS)
INSERT INTO chat.messages (tenant_id, channel_id, body)
SELECT tenant, channel, 'bench' FROM public.bench_realtime_targets WHERE n = :n;
SQL

export PGRST_DB_URI="postgres://authenticator@127.0.0.1:$PGPORT/$PGDATABASE" PGRST_DB_SCHEMAS=chat \
       PGRST_DB_ANON_ROLE=web_anon PGRST_JWT_SECRET=$SECRET PGRST_SERVER_PORT=$BENCH_PORT RUST_LOG=${BENCH_RUST_LOG:-warn} \
       TENANCY_REALTIME_REPLICATION_URI="postgres://tenancy_realtime@127.0.0.1:$PGPORT/$PGDATABASE" \
       TENANCY_REALTIME_SLOT=$SLOT
"$API" >"$WORK/api.log" 2>&1 &
API_PID=$!
until curl -sf "http://127.0.0.1:$BENCH_PORT/health" >/dev/null; do sleep 0.2; done
cp "$ROOT/bench/realtime_load.mjs" "$WORK/"
ln -s "$ROOT/tests/js/node_modules" "$WORK/node_modules"
mapfile -t TENANT_IDS < <(psql -X -Atc "SELECT tenant FROM public.bench_realtime_targets ORDER BY n LIMIT $TENANTS")

# tokens.json: one token per subscriber, round robin over the tenants; subscriber i's `sub` is
# bench-(i mod groups), so there are `groups` distinct (tenant, claims) when groups is a
# multiple of the tenants.
tokens() {
    local count=$1 groups=$2 i=0
    declare -A made=()
    printf '['
    while [ $i -lt "$count" ]; do
        local t=${TENANT_IDS[$((i % ${#TENANT_IDS[@]}))]} sub=bench-$((i % groups))
        [ -n "${made[$t$sub]:-}" ] || made[$t$sub]=$("$API" token "$t" tenant_member --sub "$sub")
        [ $i -gt 0 ] && printf ','
        printf '"%s"' "${made[$t$sub]}"
        i=$((i + 1))
    done
    printf ']'
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$API_PID/status"; }
# The server's RSS every RSS_EVERY seconds while the load runs: "seconds kB" lines.
sample_rss() {
    local start=$SECONDS
    while :; do
        echo "$((SECONDS - start)) $(rss_kb)"
        sleep "$RSS_EVERY"
    done
}
# The checks run in the API's pooled connections (role authenticator): their backends' CPU.
db_ticks() {
    local total=0
    for pid in $(psql -X -Atc "SELECT pid FROM pg_stat_activity WHERE usename = 'authenticator'"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo $total
}

run() { # subscribers groups
    local count=$1 groups=$2
    printf '{"url": "http://127.0.0.1:%s", "seconds": %s, "tokens": %s}' "$BENCH_PORT" "$SECONDS_PER_RUN" \
        "$(tokens "$count" "$groups")" >"$WORK/input.json"
    (cd "$WORK" && node realtime_load.mjs <input.json >"$WORK/out.txt" 2>"$WORK/load.err") &
    local load=$!
    until grep -q ready "$WORK/out.txt" 2>/dev/null; do sleep 0.2; done
    local before db_before
    before=$(ticks $API_PID) db_before=$(db_ticks)
    sample_rss >"$WORK/rss.txt" &
    local sampler=$!
    pgbench -n -R "$RATE" -T "$SECONDS_PER_RUN" -c 4 -j 2 -f "$WORK/insert.sql" "$PGDATABASE" >"$WORK/pgbench.log" 2>&1 || true
    local after db_after
    after=$(ticks $API_PID) db_after=$(db_ticks)
    kill $sampler
    wait $load
    [ -z "${BENCH_RSS_LOG:-}" ] || cp "$WORK/rss.txt" "$BENCH_RSS_LOG"
    local result tps
    result=$(tail -n 1 "$WORK/out.txt")
    tps=$(grep -o 'tps = [0-9.]*' "$WORK/pgbench.log" | head -1 | cut -d' ' -f3)
    python3 - "$result" "$(getconf CLK_TCK)" "$tps" "$TENANTS" "$SECONDS_PER_RUN" "$groups" \
        "$before" "$after" "$db_before" "$db_after" "$WORK/rss.txt" <<'PY'
import json, sys
result, hz, tps, tenants, seconds, groups = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3] or 0), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
cpu, db = ((int(sys.argv[i + 1]) - int(sys.argv[i])) / hz for i in (7, 9))
client = result["cpu_s"]
rss = [int(line.split()[1]) for line in open(sys.argv[11]) if len(line.split()) == 2]
delivered = result["delivered"]
expected = tps * seconds * result["subscribers"] / tenants
per = cpu / delivered * 1e6 if delivered else float("nan")
mb = lambda kb: f"{kb / 1024:.0f}"
print(f"| {result['subscribers']} | {groups} | {result['joined']} | {tps:.0f} | {delivered} ({delivered / expected:.0%}) | "
      f"{result['p50_ms']} | {result['p99_ms']} | {cpu:.1f} | {per:.0f} | {db:.1f} | {client:.1f} | "
      f"{mb(rss[0])} / {mb(rss[-1])} / {mb(max(rss))} |")
PY
}

echo "| subscribers | groups | joined | commits/s | delivered (of expected) | p50 ms | p99 ms | server CPU s | server CPU µs / delivered | checks' DB CPU s | client CPU s | server RSS MB first / last / max |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for shape in $SHAPES; do
    run "${shape%%:*}" "${shape##*:}"
done
