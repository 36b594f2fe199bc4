#!/bin/bash
# on_pg.sh SCRIPT.py URL_VARIABLE DATABASE -- runs a Python integration
# test against a real, throwaway PostgreSQL server (pg_server.sh): creates
# DATABASE and hands its URL to the script in URL_VARIABLE. Fails (never
# skips) when PostgreSQL cannot start. Writes only in a temp dir and the
# throwaway server.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
script=$1 var=$2 db=$3
# shellcheck source=pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
pg_server_session
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
env "$var=postgresql://$PGUSER@127.0.0.1:$PGPORT/$db" \
  /usr/bin/python3 "$IB_SOURCE_DIR/tests/integration/$script" ||
  fail "$script on the PostgreSQL store"
echo "PASS"
