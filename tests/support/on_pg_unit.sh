#!/bin/bash
# on_pg_unit.sh UNIT URL_VARIABLE DATABASE PASSED... -- runs the cmocka unit
# test UNIT (built as $IB_BINARY_DIR/tests/UNIT) against a real, throwaway
# PostgreSQL server (pg_server.sh): creates DATABASE and hands its URL to
# the test in URL_VARIABLE. The test's groups must report, in order, the
# numbers of tests PASSED given (e.g. "10 10": the SQLite group, then the
# PostgreSQL one), so that the PostgreSQL group is never skipped silently.
# Fails (never skips) when PostgreSQL cannot start. Writes only in a temp
# dir and the throwaway server.
set -euo pipefail

: "${IB_BINARY_DIR:?}" "${IB_SOURCE_DIR:?}"
unit=$1 var=$2 db=$3
shift 3
# shellcheck source=pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
exe="$IB_BINARY_DIR/tests/$unit"
[ -x "$exe" ] || fail "no $exe: build the tests first"
pg_server_session
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
# $work: the temp dir pg_server_session made.
# shellcheck disable=SC2154
out=$(cd "$work" && env TZDIR=/usr/share/zoneinfo \
  "$var=postgresql://$PGUSER@127.0.0.1:$PGPORT/$db" "$exe" 2>&1) ||
  { echo "$out"; fail "$unit on the PostgreSQL store"; }
echo "$out"
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\.$/\1/p' <<<"$out" |
  tr '\n' ' ')
[ "$passed" = "$* " ] ||
  fail "expected groups passing $* tests, saw: ${passed:-none}"
echo "PASS"
