#!/bin/bash
# test_check_alerts_pg.sh -- test_check_alerts.py (check and webhook notifications, SPEC §10) on
# the PostgreSQL store, against a real, throwaway server
# (tests/support/pg_server.sh): the alert state (once, repeat, resolved, retried
# deliveries) kept in the PostgreSQL store; the webhook token in no pg_dump.
# Fails (never skips) when PostgreSQL cannot start.
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
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE ib_check" >/dev/null
IB_CHECK_PG_URL="postgresql://$PGUSER@127.0.0.1:$PGPORT/ib_check" \
  /usr/bin/python3 "$IB_SOURCE_DIR/tests/integration/test_check_alerts.py" ||
  fail "check on the PostgreSQL store"
echo "PASS"
