# What the stacks need on this machine: Debian packages, cargo-pgrx and the tenancy extension.
# Sourced by scripts/up and scripts/up-citus (after env.sh), not run.

install_packages() {
    local want=(postgresql-15 "postgresql-server-dev-15" pkg-config libssl-dev sudo curl)
    local missing=()
    for p in "${want[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return
    step "installing ${missing[*]}"
    apt-get update -q >/dev/null
    local pins=()
    for p in "${missing[@]}"; do
        if [ "$p" = postgresql-server-dev-15 ] && dpkg-query -W postgresql-15 >/dev/null 2>&1; then
            # server-dev alone would upgrade the installed server: pin it to the server's version
            pins+=("$p=$(dpkg-query -W -f='${Version}' postgresql-15)")
        else
            pins+=("$p")
        fi
    done
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --no-upgrade "${pins[@]}" >/dev/null
}

install_pgrx() {
    if [ "$(cargo pgrx --version 2>/dev/null || true)" != "cargo-pgrx $PGRX_VERSION" ]; then
        step "installing cargo-pgrx $PGRX_VERSION (about 5 minutes, once)"
        cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
    fi
    if ! grep -qs "pg15 *= *\"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
        cargo pgrx init --pg15 "$PG_CONFIG" >/dev/null
    fi
}

install_extension() {
    # TENANCY_INSTALL=0: the extension this checkout would build is installed already (another
    # checkout of the same commit on this machine installed it); reinstalling under running
    # clusters would swap the library beneath them
    [ "${TENANCY_INSTALL:-1}" = 0 ] && return
    step "building and installing the tenancy extension"
    mkdir -p "$DEV"
    # TENANCY_RELEASE=1: an optimised build of the library, for benchmarks
    local profile=()
    [ "${TENANCY_RELEASE:-0}" = 1 ] && profile=(--release)
    if ! (cd "$ROOT/extension" && cargo pgrx install "${profile[@]}" --pg-config "$PG_CONFIG") >"$DEV/install.log" 2>&1; then
        tail -n 40 "$DEV/install.log" >&2
        return 1
    fi
    # the frozen full scripts of earlier releases, so databases on them can be made and updated
    install -m 644 "$ROOT"/extension/sql/released/tenancy--*.sql "$("$PG_CONFIG" --sharedir)/extension/"
}

# The cluster's data must be reachable by the postgres OS user; when the checkout sits
# under a directory it cannot enter, the data lives in /var/tmp and .dev/ points at it.
data_dir() { # path under .dev/ -> that path, created
    local dir=$1
    mkdir -p "$(dirname "$dir")"
    if [ ! -e "$dir" ]; then
        if runuser -u postgres -- test -x "$(dirname "$dir")"; then
            install -d -o postgres -g postgres -m 700 "$dir"
        else
            local elsewhere=/var/tmp/tenancy-$(echo "$dir" | md5sum | cut -c1-12)
            install -d -o postgres -g postgres -m 700 "$elsewhere"
            ln -s "$elsewhere" "$dir"
        fi
    fi
    echo "$dir"
}

start_postgres() { # data dir, port, extra server options
    local data=$1 port=$2; shift 2
    if [ ! -f "$data/PG_VERSION" ]; then
        step "creating the cluster in $data"
        runuser -u postgres -- "$PGBIN/initdb" -D "$data" -U postgres --auth=trust --locale=C.UTF-8 -E UTF8 >/dev/null
    fi
    # already running: new connections load a freshly installed extension library by themselves
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1 && return
    step "starting PostgreSQL on 127.0.0.1:$port"
    local log=$data/server.log
    for attempt in $(seq 1 30); do
        if runuser -u postgres -- "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 \
            -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' $*" start >/dev/null; then
            return
        fi
        # a port held in TIME-WAIT by an earlier run frees itself within a minute
        if tail -n 20 "$log" | grep -q "Address already in use"; then
            echo "port $port busy, retrying ($attempt/30)" >&2; sleep 2
        else
            tail -n 20 "$log" >&2; return 1
        fi
    done
    return 1
}

# The REST server, in the background: PostgREST's settings in <prefix>.env, its log in
# <prefix>.log, its pid in <prefix>.pid. The JWT secret and sign-in's ES256 keys are made once
# per checkout (`tenancy-api keys rotate` adds one). TENANCY_API=0 skips it.
start_api() { # file prefix, database port, API port, more settings (KEY=value lines)
    [ "${TENANCY_API:-1}" = 0 ] && return
    local prefix=$1 db_port=$2 port=$3 more=${4:-}
    step "starting the REST server on 127.0.0.1:$port"
    cargo build -q -p tenancy-api
    [ -f "$DEV/jwt_secret" ] || head -c 32 /dev/urandom | base64 | tr -d '\n/+=' >"$DEV/jwt_secret"
    "$ROOT/target/debug/tenancy-api" keys generate "$DEV/auth_keys.json" >/dev/null
    cat >"$prefix.env" <<ENV
PGRST_DB_URI=postgres://authenticator@127.0.0.1:$db_port/$PGDATABASE
PGRST_DB_SCHEMAS=hrms,core,payroll,chat,pipeline,school,library,events,attendance,api,platform,analytics
PGRST_DB_ANON_ROLE=web_anon
PGRST_JWT_SECRET=$(cat "$DEV/jwt_secret")
PGRST_SERVER_PORT=$port
TENANCY_AUTH_KEYS_FILE=$DEV/auth_keys.json
TENANCY_CONSOLE_DIR=$ROOT/console/dist
$more
ENV
    if [ -f "$prefix.pid" ] && kill "$(cat "$prefix.pid")" 2>/dev/null; then sleep 0.5; fi
    (set -a; source "$prefix.env"; set +a
     setsid "$ROOT/target/debug/tenancy-api" >"$prefix.log" 2>&1 </dev/null & echo $! >"$prefix.pid")
    for _ in $(seq 1 50); do
        curl -sf "http://127.0.0.1:$port/health" >/dev/null && return
        sleep 0.2
    done
    tail -n 20 "$prefix.log" >&2
    return 1
}

# People who sign in (/auth/v1): the platform administrator (a platform account: role
# platform_admin, no tenant), an admin and an employee of acme, a teacher of springfield, with
# one password per checkout (.dev/demo_password), hashed by the server's own argon2id.
demo_users() {
    [ "${TENANCY_API:-1}" = 0 ] && return
    [ -f "$DEV/demo_password" ] || head -c 12 /dev/urandom | base64 | tr -d '\n/+=' >"$DEV/demo_password"
    local hash; hash=$("$ROOT/target/debug/tenancy-api" password <"$DEV/demo_password")
    psql -X -q -v ON_ERROR_STOP=1 -v hash="$hash" >/dev/null <<'SQL'
SELECT auth.set_password_hash(auth.add_member(t.id, u.email, u.roles), :'hash')
FROM (VALUES ('acme', 'admin@acme.example', '{tenant_admin,hr_manager}'::text[]),
             ('acme', 'employee@acme.example', '{employee}'),
             ('springfield', 'teacher@springfield.example', '{teacher}')) u (slug, email, roles)
JOIN tenancy.tenants t ON t.slug = u.slug;
SELECT auth.set_password_hash(auth.add_platform_admin('platform@tenancy.example'), :'hash');
SQL
}

token() { # server's file prefix, slug [tenancy-api token options] -> a day-long token for tenant_member of that tenant
    local prefix=$1 slug=$2; shift 2
    (set -a; source "$prefix.env"; set +a
     "$ROOT/target/debug/tenancy-api" token "$(psql -X -Atc "SELECT id FROM tenancy.tenants WHERE slug = '$slug'")" "$@")
}
