#!/usr/bin/env bash
# Real-time (README "Real-time"; PERFORMANCE.md): commit-to-delivery latency (p50, p99) and the
# server's CPU per delivered message, with SUBSCRIBERS realtime-js clients across TENANTS
# tenants while pgbench commits RATE chat messages a second (one per transaction, random
# tenant). Runs three shapes so the cost of the visibility check shows what it grows with:
#   groups = tenants   (subscribers of a tenant share one token: one check per tenant)
#   groups = subscribers (each subscriber its own `sub` claim: one check each)
#   half the subscribers, groups = tenants
# usage: bench/realtime.sh [seconds, default 20] [subscribers, default 1000] [tenants, default 100] [rate, default 1000]
# BENCH_NO_UP=1 uses the running cluster as is; BENCH_PROFILE=debug skips the release build.
source "$(dirname "$0")/../scripts/env.sh"
SECONDS_PER_RUN=${1:-20}
SUBSCRIBERS=${2:-1000}
TENANTS=${3:-100}
RATE=${4:-1000}
PROFILE=${BENCH_PROFILE:-release}
BENCH_PORT=${BENCH_PORT:-3902}
SLOT=bench_realtime
SECRET=bench-secret-bench-secret-bench-secret
WORK=$(mktemp -d)
cleanup() {
    kill "${API_PID:-}" 2>/dev/null || true
    sleep 1
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
       PGRST_DB_ANON_ROLE=web_anon PGRST_JWT_SECRET=$SECRET PGRST_SERVER_PORT=$BENCH_PORT RUST_LOG=warn \
       TENANCY_REALTIME_REPLICATION_URI="postgres://tenancy_realtime@127.0.0.1:$PGPORT/$PGDATABASE" \
       TENANCY_REALTIME_SLOT=$SLOT
"$API" >"$WORK/api.log" 2>&1 &
API_PID=$!
until curl -sf "http://127.0.0.1:$BENCH_PORT/health" >/dev/null; do sleep 0.2; done
cp "$ROOT/bench/realtime_load.mjs" "$WORK/"
ln -s "$ROOT/tests/js/node_modules" "$WORK/node_modules"
mapfile -t TENANT_IDS < <(psql -X -Atc "SELECT tenant FROM public.bench_realtime_targets ORDER BY n LIMIT $TENANTS")

# tokens.json: one token per subscriber, round robin over the tenants; `distinct` gives each its
# own `sub` (a group of one), `shared` one token per tenant.
tokens() {
    local count=$1 mode=$2 i=0
    declare -A per_tenant=()
    printf '['
    while [ $i -lt "$count" ]; do
        local t=${TENANT_IDS[$((i % ${#TENANT_IDS[@]}))]}
        local tok
        if [ "$mode" = distinct ]; then
            tok=$("$API" token "$t" tenant_member --sub "bench-$i")
        else
            [ -n "${per_tenant[$t]:-}" ] || per_tenant[$t]=$("$API" token "$t" tenant_member --sub bench)
            tok=${per_tenant[$t]}
        fi
        [ $i -gt 0 ] && printf ','
        printf '"%s"' "$tok"
        i=$((i + 1))
    done
    printf ']'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$API_PID/stat"; }
# The checks run in the API's pooled connections (role authenticator): their backends' CPU.
db_ticks() {
    local total=0
    for pid in $(psql -X -Atc "SELECT pid FROM pg_stat_activity WHERE usename = 'authenticator'"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo $total
}

run() { # label subscribers mode
    local label=$1 count=$2 mode=$3
    printf '{"url": "http://127.0.0.1:%s", "seconds": %s, "tokens": %s}' "$BENCH_PORT" "$SECONDS_PER_RUN" \
        "$(tokens "$count" "$mode")" >"$WORK/input.json"
    (cd "$WORK" && node realtime_load.mjs <input.json >"$WORK/out.txt" 2>"$WORK/load.err") &
    local load=$!
    until grep -q ready "$WORK/out.txt" 2>/dev/null; do sleep 0.2; done
    local before; before=$(cpu_ticks)
    local db_before; db_before=$(db_ticks)
    pgbench -n -R "$RATE" -T "$SECONDS_PER_RUN" -c 4 -j 2 -f "$WORK/insert.sql" "$PGDATABASE" >"$WORK/pgbench.log" 2>&1 || true
    local after; after=$(cpu_ticks)
    local db_after; db_after=$(db_ticks)
    wait $load
    local result; result=$(tail -n 1 "$WORK/out.txt")
    local tps; tps=$(grep -o 'tps = [0-9.]*' "$WORK/pgbench.log" | head -1 | cut -d' ' -f3)
    python3 - "$label" "$result" "$before" "$after" "$(getconf CLK_TCK)" "$tps" "$db_before" "$db_after" <<'PY'
import json, sys
label, result, tps = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[6] or 0)
before, after, hz, db_before, db_after = (int(a) for a in (sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[7], sys.argv[8]))
cpu, db = (after - before) / hz, (db_after - db_before) / hz
per = cpu / result["delivered"] * 1e6 if result["delivered"] else float("nan")
print(f"| {label} | {result['joined']}/{result['subscribers']} | {tps:.0f} | {result['delivered']} | {result['p50_ms']} | {result['p99_ms']} | {cpu:.1f} | {per:.0f} | {db:.1f} |")
PY
}

echo "| shape | joined | commits/s | delivered | p50 ms | p99 ms | server CPU s | server CPU µs / delivered | checks' DB CPU s |"
echo "|---|---|---|---|---|---|---|---|---|"
run "groups = tenants ($TENANTS)" "$SUBSCRIBERS" shared
run "groups = subscribers ($SUBSCRIBERS)" "$SUBSCRIBERS" distinct
run "$((SUBSCRIBERS / 2)) subscribers, groups = tenants" "$((SUBSCRIBERS / 2))" shared
