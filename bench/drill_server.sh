# Shared by the drills (restart_drill.sh, soak.sh, fuzz.sh): a REST server of their own on
# 127.0.0.1, against a cluster that is already up with the demo loaded (scripts/up; PGPORT
# names another cluster). Sourced, not run. DRILL_API_PORT picks the server's port (3903),
# DRILL_BUILD=release an optimised server (debug by default: no build wait, and the
# behaviour under test is the same).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
DRILL_API_PORT=${DRILL_API_PORT:-3903}
DRILL_BUILD=${DRILL_BUILD:-debug}
DRILL_URL=http://127.0.0.1:$DRILL_API_PORT
WORK=$(mktemp -d)
DRILL_API_PID=
trap 'stop_drill_server; rm -rf "$WORK"' EXIT

ACME=$(psql -X -Atc "SELECT id FROM tenancy.tenants WHERE slug = 'acme'" 2>/dev/null || true)
if [ -z "$ACME" ]; then
    echo "no demo tenant acme on 127.0.0.1:$PGPORT: bring the dev stack up first (scripts/up)" >&2
    exit 2
fi
# The superuser's view of the cluster, for the drills that restart it or count rows.
PGDATA_DIR=$(psql -X -Atc "SHOW data_directory")

# A fresh secret per run: the tokens below are the only ones this server accepts.
DRILL_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=')

start_drill_server() {
    if [ "$DRILL_BUILD" = release ]; then
        cargo build -q --release -p tenancy-api
    else
        cargo build -q -p tenancy-api
    fi
    DRILL_API=$ROOT/target/$DRILL_BUILD/tenancy-api
    if curl -s -o /dev/null "$DRILL_URL/health"; then
        echo "port $DRILL_API_PORT is taken: set DRILL_API_PORT" >&2
        exit 2
    fi
    PGRST_DB_URI="postgres://authenticator@127.0.0.1:$PGPORT/$PGDATABASE" \
        PGRST_DB_SCHEMAS=hrms,core,payroll,chat,pipeline PGRST_DB_ANON_ROLE=web_anon \
        PGRST_JWT_SECRET=$DRILL_SECRET PGRST_SERVER_PORT=$DRILL_API_PORT RUST_LOG=${RUST_LOG:-warn} \
        "$DRILL_API" >"$WORK/api.log" 2>&1 &
    DRILL_API_PID=$!
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null "$DRILL_URL/health" && return
        sleep 0.1
    done
    tail -n 20 "$WORK/api.log" >&2
    exit 1
}

stop_drill_server() {
    if [ -n "$DRILL_API_PID" ]; then
        kill "$DRILL_API_PID" 2>/dev/null || true
        wait "$DRILL_API_PID" 2>/dev/null || true
        DRILL_API_PID=
    fi
}

# A day-long token of acme's tenant_member (reads everything acme has, writes chat).
drill_token() {
    PGRST_JWT_SECRET=$DRILL_SECRET "$DRILL_API" token "$ACME"
}

# One of acme's chat channels: the drills' writes go there, each with a body naming the run.
drill_channel() {
    psql -X -Atc "SELECT id FROM chat.channels WHERE tenant_id = '$ACME' AND name = 'general'"
}
