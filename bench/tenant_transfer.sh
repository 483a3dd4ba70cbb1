#!/usr/bin/env bash
# `tenancy export` and `tenancy import` of one tenant with ~1M rows in a protected table
# (chat.messages), against plain psql `\copy` of the same rows in the same run: rows/s and
# peak memory (max RSS from /usr/bin/time -v), as ratios to plain COPY. Not run in CI.
# Uses the dev stack (scripts/up), a release build of the CLI and three databases of its own.
# usage: bench/tenant_transfer.sh [rows, default 1000000]
source "$(dirname "$0")/../scripts/env.sh"
ROWS=${1:-1000000}
WORK=$(mktemp -d)
SRC=tenancy_xfer_bench_src
DST=tenancy_xfer_bench_dst
PLAIN=tenancy_xfer_bench_plain
psql() { PGOPTIONS="-c client_min_messages=warning" command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
    rm -rf "$WORK"
    for db in $SRC $DST $PLAIN; do psql -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done
}
trap cleanup EXIT

TENANCY_API=0 "$ROOT/scripts/up" >/dev/null
cargo build -q --release -p tenancy-cli
TENANCY=$ROOT/target/release/tenancy
for db in $SRC $DST $PLAIN; do
    psql -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    DATABASE_URL=postgres://$PGUSER@127.0.0.1:$PGPORT/$db "$TENANCY" migrate >/dev/null
done

step "a tenant with $ROWS messages"
tenant=$(psql -d $SRC -Atc "SELECT tenancy.create_tenant('bench-transfer', 'Bench', 'standard', '{}', '{chat}')")
psql -d $SRC <<SQL
INSERT INTO chat.channels (tenant_id, id, name) VALUES ('$tenant', '$tenant', 'general');
INSERT INTO chat.messages (tenant_id, channel_id, body, sent_at)
SELECT '$tenant', '$tenant', 'message ' || i || ' ' || repeat('x', 60), now() - i * interval '1 second'
FROM generate_series(1, $ROWS) i;
VACUUM ANALYZE chat.messages;
SQL
# The plain COPY's target holds the tenant and its channel, as the import's would.
psql -d $PLAIN -c "INSERT INTO tenancy.tenants (id, slug, name) VALUES ('$tenant', 'bench-transfer', 'Bench')" \
               -c "INSERT INTO chat.channels (tenant_id, id, name) VALUES ('$tenant', '$tenant', 'general')"

measure() { # label command... -> "seconds max_rss_kb"
    /usr/bin/time -v -o "$WORK/$1.time" "${@:2}" >/dev/null
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; secs = s }
                /Maximum resident set size/ { rss = $2 }
                END { print secs, rss }' "$WORK/$1.time"
}
columns="tenant_id, id, channel_id, author_id, body, sent_at"
read -r copy_out_s copy_out_kb < <(measure copy_out psql -d $SRC \
    -c "\\copy (SELECT $columns FROM chat.messages WHERE tenant_id = '$tenant') TO '$WORK/messages.copy'")
read -r copy_in_s copy_in_kb < <(measure copy_in psql -d $PLAIN -c "\\copy chat.messages ($columns) FROM '$WORK/messages.copy'")
read -r export_s export_kb < <(DATABASE_URL=postgres://$PGUSER@127.0.0.1:$PGPORT/$SRC \
    measure export "$TENANCY" export --tenant bench-transfer -o "$WORK/tenant.tar")
read -r import_s import_kb < <(DATABASE_URL=postgres://$PGUSER@127.0.0.1:$PGPORT/$DST \
    measure import "$TENANCY" import "$WORK/tenant.tar")

report() { # label seconds kb base_seconds base_kb
    printf '%-34s %8.2f %12.0f %8.2f %10.0f %8.2f\n' "$1" "$2" "$(awk -v s="$2" -v n="$ROWS" 'BEGIN { print n / s }')" \
        "$(awk -v a="$4" -v b="$2" 'BEGIN { print a / b }')" "$(($3 / 1024))" "$(awk -v a="$3" -v b="$5" 'BEGIN { print a / b }')"
}
printf '\none tenant, %s rows in chat.messages (archive %s MB, data %s MB)\n' "$ROWS" \
    "$(($(stat -c %s "$WORK/tenant.tar") / 1048576))" "$(($(stat -c %s "$WORK/messages.copy") / 1048576))"
printf '%-34s %8s %12s %8s %10s %8s\n' "what" "seconds" "rows/s" "speed" "max RSS MB" "memory"
report "psql \\copy ... TO (baseline)" "$copy_out_s" "$copy_out_kb" "$copy_out_s" "$copy_out_kb"
report "tenancy export" "$export_s" "$export_kb" "$copy_out_s" "$copy_out_kb"
report "psql \\copy ... FROM (baseline)" "$copy_in_s" "$copy_in_kb" "$copy_in_s" "$copy_in_kb"
report "tenancy import" "$import_s" "$import_kb" "$copy_in_s" "$copy_in_kb"
