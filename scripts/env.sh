# Shared settings for the dev stack scripts: sourced, not run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PGPORT=${PGPORT:-54329}
export PGHOST=127.0.0.1
export PGUSER=${PGUSER:-postgres}
export PGDATABASE=${PGDATABASE:-tenancy}
PGBIN=/usr/lib/postgresql/15/bin
PG_CONFIG=$PGBIN/pg_config
PGRX_VERSION=0.18.0
DEV=$ROOT/.dev
API_PORT=${TENANCY_API_PORT:-3000}
export DATABASE_URL=${DATABASE_URL:-postgres://$PGUSER@127.0.0.1:$PGPORT/$PGDATABASE}

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
