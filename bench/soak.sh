#!/usr/bin/env bash
# The soak: the REST server under a fixed rate of mixed requests for a long while (85 % reads of
# five shapes: filters, embeds, counts, ranges; 15 % writes: a chat message POSTed, PATCHed and
# DELETEd), 4 keep-alive connections with acme's tenant_member token. Samples the server's
# VmRSS and open file descriptors every 5 s and prints them at the start, middle and end with
# the maximum, the outcomes by status and latency by third of the run. Exit 0 when every
# request got a 2xx. Needs the dev stack up (scripts/up, or PGPORT naming another cluster with
# the demo); only 127.0.0.1 is spoken to; the run's rows are deleted at the end.
# usage: bench/soak.sh [seconds, default 600] [requests per second, default 100]
source "$(dirname "$0")/drill_server.sh"
SECONDS_TOTAL=${1:-600}
RATE=${2:-100}

start_drill_server
# rows an interrupted earlier run may have left
psql -X -qc "DELETE FROM chat.messages WHERE body LIKE 'soak-%'"
echo "server: $DRILL_BUILD build on $DRILL_URL (pool of 10), pid $DRILL_API_PID; PostgreSQL on port $PGPORT"
python3 "$ROOT/bench/soak.py" --port "$DRILL_API_PORT" --pid "$DRILL_API_PID" --token "$(drill_token)" \
    --channel "$(drill_channel)" --run "$(date +%Y%m%d%H%M%S)-$$" \
    --seconds "$SECONDS_TOTAL" --rate "$RATE" --server-log "$WORK/api.log"
