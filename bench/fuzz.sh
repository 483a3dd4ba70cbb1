#!/usr/bin/env bash
# The fuzz run: the request grammar (query string, Prefer, Range) and the lint parser under
# mutated and arbitrary input, as proptest tests with many cases (api-shim/tests/fuzz_grammar.rs,
# cli/tests/fuzz_lint_parser.rs; a normal `cargo test` runs 256 each), built optimised but
# with debug assertions and overflow checks on (an arithmetic overflow is a panic here, as in a
# debug build); then mutated query strings over HTTP against a server of its own (no 5xx, no
# connection closed without notice). Prints inputs, rate and wall time of each part; exit 0
# when nothing panicked and the server held. Needs the dev stack up (scripts/up, or PGPORT
# naming another cluster with the demo) for the HTTP part; only 127.0.0.1 is spoken to.
# usage: bench/fuzz.sh [query grammar inputs, default 6000000] [header inputs, default 2000000]
#                      [lint inputs, default 4000000] [HTTP requests, default 20000]
source "$(dirname "$0")/drill_server.sh"
GRAMMAR_CASES=${1:-6000000}
HEADER_CASES=${2:-2000000}
LINT_CASES=${3:-4000000}
HTTP_REQUESTS=${4:-20000}
# an optimised build that still checks what a debug build checks; its own directory, target/fuzz
PROFILE=(--profile fuzz --config 'profile.fuzz.inherits="release"' --config profile.fuzz.lto=false
         --config profile.fuzz.codegen-units=16 --config profile.fuzz.opt-level=2
         --config profile.fuzz.debug-assertions=true --config profile.fuzz.overflow-checks=true)

status=0
cargo test -q -p tenancy-api --test fuzz_grammar "${PROFILE[@]}" --no-run
cargo test -q -p tenancy-cli --test fuzz_lint_parser "${PROFILE[@]}" --no-run
started=$(date +%s)
for run in "tenancy-api fuzz_grammar query_grammar_never_panics $GRAMMAR_CASES" \
           "tenancy-api fuzz_grammar prefer_and_range_headers_never_panic $HEADER_CASES" \
           "tenancy-cli fuzz_lint_parser linter_never_panics $LINT_CASES"; do
    set -- $run
    echo "== $3 ($4 inputs)"
    if ! PROPTEST_CASES=$4 cargo test -q -p "$1" --test "$2" "${PROFILE[@]}" -- --exact "$3" --nocapture \
        >"$WORK/out" 2>&1; then
        status=1
    fi
    grep -v '^$\|^running\|^test result\|^\.*$' "$WORK/out" || true
done
echo "parsers: $((GRAMMAR_CASES + HEADER_CASES + LINT_CASES)) inputs in $(($(date +%s) - started)) s"

echo "== HTTP: $HTTP_REQUESTS mutated query strings"
start_drill_server
python3 "$ROOT/bench/http_fuzz.py" --port "$DRILL_API_PORT" --token "$(drill_token)" --requests "$HTTP_REQUESTS" \
    --server-log "$WORK/api.log" || status=1
exit $status
