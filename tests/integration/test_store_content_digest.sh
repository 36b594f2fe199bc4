#!/bin/bash
# test_store_content_digest.sh -- the stored content does not change when
# the store's machinery does (indexes, faster loads or upserts, a new
# backend path): syncs the bundled sample (config/sample/: CSV tickets with
# pauses and rejected rows, outages) plus a small CSV fixture written below
# (quoted delimiters, a line break in a field, a running pause, an open
# ticket, a response before the creation) into a fresh SQLite store and a
# fresh PostgreSQL store (tests/support/pg_server.sh), and compares a
# SHA-256 over every ticket, pause, outage and rejected row, in a fixed
# order, with the digest recorded below from the main branch. Both backends
# must give that same digest. Writes only in its temp dir and the throwaway
# server; fails (never skips) when PostgreSQL cannot start.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
# shellcheck source=../support/pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"
# shellcheck source=pgstore_lib.sh
source "$IB_SOURCE_DIR/tests/integration/pgstore_lib.sh"

# Obtained on main at b8d0e30 (schema version 3, before the period indexes)
# by running this test with IB_PRINT_DIGEST=1 and copying the SQLite digest
# it printed. Change it only for a change of the stored content that is
# meant (a new column, a new normalisation), and say so in the commit.
EXPECTED=9c01a607fc42abeb9d1b21f29238e8313d7fd4728375aba211d0a80a941e0a0a

work=$(mktemp -d)
cleanup() {
  pg_server_stop
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
ln -s "$IB_SOURCE_DIR/config" config

# The fixture: a second provider with an ISO date format and hostile text.
printf '%s\r\n' \
  'id;title;type;prio;state;svc;created;answered;resolved;hold;resume;updated' \
  'F-1;"Semicolon; and ""quotes""";Incident;P1;Resolved;ERP;2026-10-01 09:00;2026-10-01 09:20;2026-10-01 12:00;2026-10-01 10:00;2026-10-01 11:00;2026-10-01 12:01' \
  'F-2;"Two lines' \
  'in one title";Incident;P2;Open;CRM;2026-10-03 23:30;;;2026-10-04 08:00;;2026-10-04 08:00' \
  'F-3;Réponse avant création;Request;P3;Resolved;;2026-10-10 10:00;2026-10-10 09:00;2026-10-12 10:00;;;2026-10-12 10:00' \
  'F-4;Still open since September;Incident;P2;Open;ERP;2026-09-28 17:59;2026-09-29 08:00;;;;2026-09-29 08:00' \
  'F-5;Unmapped priority;Incident;P9;Open;ERP;2026-10-05 10:00;;;;;2026-10-05 10:00' \
  'F-6;Ünïcödé 日本語 ✓;Request;P4;Resolved;VPN;2026-10-31 23:59;2026-11-01 00:10;2026-11-02 09:00;;;2026-11-02 09:00' \
  >fixture.csv
fixture_source='  { name = "fixture"; plugin = "csv"; path = "fixture.csv";
    delimiter = ";"; timezone = "America/New_York"; date_format = "%Y-%m-%d %H:%M";
    columns = { id = "id"; title = "title"; kind = "type"; priority = "prio";
                status = "state"; service = "svc"; created = "created";
                first_response = "answered"; resolved = "resolved";
                pause_start = "hold"; pause_end = "resume"; updated = "updated"; };
    priorities = ( ("P1", "P1"), ("P2", "P2"), ("P3", "P3"), ("P4", "P4") );
    statuses = ( ("Open", "open"), ("Resolved", "resolved") );
    kinds = ( ("Incident", "incident"), ("Request", "request") ); },'

# make_cfg STORE_LINE OUT: the sample configuration with the fixture added.
make_cfg() {
  FIXTURE="$fixture_source" STORE_LINE="$1" awk '
    /^store = / { print ENVIRON["STORE_LINE"]; next }
    { print }
    /^sources = \(/ { print ENVIRON["FIXTURE"] }' config/sample/bridge.cfg >"$2"
}
make_cfg 'store = { path = "var/store.db"; };' sq.cfg
grep -q '^store = { path = "var/store.db"; };' sq.cfg &&
  grep -q 'name = "fixture"' sq.cfg || fail "could not write sq.cfg"

# The canonical text: every stored column but run bookkeeping and times of
# detection, NULL as empty, booleans as 0/1, byte order.
CONTENT_SQL_TICKETS="SELECT $PGSTORE_TICKET_COLS, reported_response_breached,
  reported_resolution_breached, digest FROM tickets"
sq_content() {
  sqlite3 "$1" "$CONTENT_SQL_TICKETS ORDER BY source, id;
    SELECT source, ticket_id, start, end FROM pauses
     ORDER BY source, ticket_id, start, end;
    SELECT source, id, service, kind, kind_raw, start, end, updated_at,
     deleted_at, digest FROM outages ORDER BY source, id;
    SELECT source, id, position, reason FROM rejected ORDER BY source, id;"
}
pg_content() {
  PGOPTIONS="-c search_path=itsm_bridge_store" \
    q -c "SELECT $PGSTORE_TICKET_COLS, reported_response_breached::int,
         reported_resolution_breached::int, digest FROM tickets
         ORDER BY source COLLATE \"C\", id COLLATE \"C\"" \
    -c "SELECT source, ticket_id, start, \"end\" FROM pauses
         ORDER BY source COLLATE \"C\", ticket_id COLLATE \"C\", start, \"end\"" \
    -c "SELECT source, id, service, kind, kind_raw, start, \"end\", updated_at,
         deleted_at, digest FROM outages
         ORDER BY source COLLATE \"C\", id COLLATE \"C\"" \
    -c "SELECT source, id, position, reason FROM rejected
         ORDER BY source COLLATE \"C\", id COLLATE \"C\""
}
digest() { sha256sum | cut -d' ' -f1; }

out=$(ib sq.cfg sync 2>&1) || fail "SQLite sync exited $?: $out"
echo "$out"
for expected in "legacy: 400 read, 396 new" "legacy-outages: 19 read, 19 new" \
  "fixture: 6 read, 5 new, 0 changed, 0 unchanged, 1 rejected"; do
  grep -qF "$expected" <<<"$out" || fail "SQLite sync: missing '$expected'"
done
sq_text=$(sq_content var/store.db)
[ "$(grep -c '^fixture|' <<<"$sq_text")" -ge 5 ] || fail "fixture rows not stored"
sq_digest=$(digest <<<"$sq_text")
if [ "${IB_PRINT_DIGEST:-0}" = 1 ]; then
  echo "SQLite content digest: $sq_digest"
  printf '%s\n' "$sq_text" >"${IB_DIGEST_DUMP:-/dev/null}"
fi
# A second sync of the same input rewrites nothing.
ib sq.cfg sync >/dev/null 2>&1 || fail "second SQLite sync failed"
[ "$(sq_content var/store.db | digest)" = "$sq_digest" ] ||
  fail "a second sync of the same input changed the SQLite store"

pg_server_start || fail "could not start a throwaway PostgreSQL server"
export PGPASSFILE="$work/no-pgpass"
export PGPASSWORD=$PG_TEST_PASSWORD
q -c "CREATE DATABASE ib_digest" >/dev/null
export PGDATABASE=ib_digest
make_cfg "store = { url = \"postgresql://$PGUSER@127.0.0.1:$PGPORT/ib_digest\"; };" pg.cfg
grep -q '^store = { url = ' pg.cfg || fail "could not point pg.cfg at PostgreSQL"
out=$(ib pg.cfg sync 2>&1) || fail "PostgreSQL sync exited $?: $out"
pg_text=$(pg_content)
pg_digest=$(digest <<<"$pg_text")
[ "$pg_digest" = "$sq_digest" ] ||
  { diff <(echo "$sq_text") <(echo "$pg_text") | head; fail "PostgreSQL content differs from SQLite"; }

[ "$sq_digest" = "$EXPECTED" ] ||
  fail "stored content digest $sq_digest differs from the one recorded on main ($EXPECTED): a change altered what is stored"
echo "content digest $sq_digest (both backends)"
