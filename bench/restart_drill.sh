#!/usr/bin/env bash
# The restart drill: WRITERS concurrent clients POST chat messages to the REST server (acme's
# tenant_member token, keep-alive connections), each with a unique body it remembers when the
# answer is 201; at RESTART_AT s the script restarts PostgreSQL (pg_ctl restart -m fast).
# Afterwards: every acknowledged write must be a row (none lost, none twice), each outcome is
# counted by status (a restart must give 503 with Retry-After, never 500, and keep the HTTP
# connections), and the recovery is timed (the first 201 after PostgreSQL accepts connections
# again). Exit 0 when all holds, 1 otherwise. The run's rows are deleted at the end.
# Needs the dev stack up (scripts/up, or PGPORT naming another cluster with the demo); only
# 127.0.0.1 is spoken to. Bounded: SECONDS_TOTAL s of traffic, one restart.
# usage: bench/restart_drill.sh [seconds, default 20] [writers, default 8] [restart at s, default 8]
source "$(dirname "$0")/drill_server.sh"
SECONDS_TOTAL=${1:-20}
WRITERS=${2:-8}
RESTART_AT=${3:-8}

start_drill_server
RUN="$(date +%Y%m%d%H%M%S)-$$"
# rows an interrupted earlier run may have left
psql -X -qc "DELETE FROM chat.messages WHERE body LIKE 'drill %'"
echo "server: $DRILL_BUILD build on $DRILL_URL (pool of 10); PostgreSQL $PGDATA_DIR on port $PGPORT"
status=0
python3 "$ROOT/bench/restart_drill.py" --port "$DRILL_API_PORT" --token "$(drill_token)" --tenant "$ACME" \
    --channel "$(drill_channel)" --run "$RUN" --writers "$WRITERS" --seconds "$SECONDS_TOTAL" \
    --restart-at "$RESTART_AT" \
    --restart-command "runuser -u postgres -- $PGBIN/pg_ctl -D $PGDATA_DIR -l $PGDATA_DIR/server.log -w -t 60 restart -m fast" \
    --server-log "$WORK/api.log" || status=$?
exit $status
