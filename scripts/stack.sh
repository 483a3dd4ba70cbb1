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
