#!/bin/bash
# test_history_pg.sh -- test_history.py (history in the store, SPEC §9) on
# the PostgreSQL store, against a real, throwaway server
# (tests/support/pg_server.sh): unchanged re-syncs write no row (a trigger
# counts them), edits and --full deletions are recorded field by field and
# listed by `history`. Fails (never skips) when PostgreSQL cannot start.
# Writes only in its temp dir and the throwaway server.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
# shellcheck source=../support/pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
cleanup() {
  pg_server_stop
  rm -rf "$work"
}
trap cleanup EXIT

pg_server_start || fail "could not start a throwaway PostgreSQL server"
export PGPASSFILE="$work/no-pgpass"
export PGPASSWORD=$PG_TEST_PASSWORD
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE ib_history" >/dev/null
IB_HISTORY_PG_URL="postgresql://$PGUSER@127.0.0.1:$PGPORT/ib_history" \
  /usr/bin/python3 "$IB_SOURCE_DIR/tests/integration/test_history.py" ||
  fail "history on the PostgreSQL store"
echo "PASS"
