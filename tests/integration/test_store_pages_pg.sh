#!/bin/bash
# test_store_pages_pg.sh -- the unit test test_store_pages (the contract of
# the write-behind pages, store.h) on the PostgreSQL store too, against a
# real, throwaway server (tests/support/pg_server.sh): creates a database
# and hands its URL to the test in IB_PAGES_PG_URL. Fails (never skips)
# when PostgreSQL cannot start. Writes only in a temp dir and the
# throwaway server.
set -euo pipefail

: "${IB_BINARY_DIR:?}" "${IB_SOURCE_DIR:?}"
# shellcheck source=../support/pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
unit="$IB_BINARY_DIR/tests/test_store_pages"
[ -x "$unit" ] || fail "no $unit: build the tests first"
pg_server_session
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE ib_pages" >/dev/null
out=$(cd "$work" && TZDIR=/usr/share/zoneinfo \
  IB_PAGES_PG_URL="postgresql://$PGUSER@127.0.0.1:$PGPORT/ib_pages" "$unit" 2>&1) ||
  { echo "$out"; fail "test_store_pages on the PostgreSQL store"; }
echo "$out"
# Both groups ran: the PostgreSQL one is not skipped silently.
[ "$(grep -c '^\[  PASSED  \] 10 test(s)\.' <<<"$out")" = 2 ] ||
  fail "expected the 10 tests to pass on SQLite and on PostgreSQL"
echo "PASS"
