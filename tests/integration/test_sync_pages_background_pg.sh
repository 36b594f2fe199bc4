#!/bin/bash
# test_sync_pages_background_pg.sh -- the PostgreSQL store writes each page
# of a sync on a second thread while the plugin reads the next one
# (store_pg.c "write-behind pages"), against a real, throwaway server
# (tests/support/pg_server.sh), with the real csv.so:
#
# * a page the server refuses in the background (a trigger created by this
#   test raises on one row of the 3rd of 5 pages): exit 1 with one line
#   naming the store, the page and the server's message; the 2 pages
#   before it are stored whole, nothing of the failed page nor of the
#   pages after it; the watermark is not advanced; the summary's new count
#   and the run's stored count are what the store holds; once the trigger
#   is dropped the next sync stores everything and advances the watermark;
# * a refusal in the last page, found by finish_pages: 4 pages stored;
# * a first load (no lookups for its new records) where an id comes twice
#   in one page and again in a later page gives the SQLite store's report,
#   rows and recorded changes, and asks the server for no page lookup of
#   the ids it had not written yet (the tickets index is probed only for
#   the ids met again).
# Ctrl-C and kill -9 mid-sync on PostgreSQL: test_store_pg_pages.sh.
# Fails (never skips) when PostgreSQL cannot start. Writes only in its
# temp dir and the throwaway server.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
# shellcheck source=../support/pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"
# shellcheck source=pgstore_lib.sh
source "$IB_SOURCE_DIR/tests/integration/pgstore_lib.sh"

pg_server_session
cd "$work"
for db in ib_bg ib_last ib_twice; do q -c "CREATE DATABASE $db" >/dev/null; done
url() { echo "postgresql://$PGUSER@127.0.0.1:$PGPORT/$1"; }
qs() { # qs DB SQL: one value, on the store's schema
  PGOPTIONS="-c search_path=itsm_bridge_store" q -d "$1" -c "$2"
}
create_store() { # create_store CFG DB: status creates the schema
  ib "$1" status >/dev/null 2>&1 || true
  [ "$(qs "$2" "SELECT count(*) FROM tickets")" = 0 ] ||
    fail "status did not create the store in $2"
}

# config STORE_LINE CSV COMMIT_EVERY: one CSV source "desk".
config() {
  cat <<CFG
$1
timezone = "Europe/Paris";
sources = (
  { name = "desk"; plugin = "csv"; path = "$2"; delimiter = ";";
    timezone = "Europe/Paris"; date_format = "%d/%m/%Y %H:%M";
    commit_every = $3;
    columns = { id = "id"; title = "title"; service = "service"; priority = "priority";
                created = "created"; resolved = "resolved"; updated = "updated"; };
    priorities = ( ("Haute", "P2"), ("Basse", "P4") ); }
);
CFG
}
rows() { # rows N: tickets T1..TN
  echo "id;title;service;priority;created;resolved;updated"
  for i in $(seq "$1"); do
    printf 'T%d;Ticket %d;ERP;Haute;05/10/2026 09:00;05/10/2026 12:00;05/10/2026 12:%02d\n' \
      "$i" "$i" $((i % 60))
  done
}
refuse() { # refuse DB ID: the server refuses to insert ticket ID
  qs "$1" "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
           \$\$BEGIN RAISE EXCEPTION 'refused by test'; END\$\$;
           CREATE TRIGGER refuse BEFORE INSERT ON tickets FOR EACH ROW
           WHEN (NEW.id = '$2') EXECUTE FUNCTION refuse()" >/dev/null
}
summary() { grep '^desk:' || true; }

# --- a page refused in the background -----------------------------------
rows 1000 >a.csv
config "store = { url = \"$(url ib_bg)\"; };" a.csv 200 >a.cfg
create_store a.cfg ib_bg
refuse ib_bg T500
set +e
out=$(ib a.cfg sync 2>err.txt)
rc=$?
set -e
line=$(grep "sync failed" err.txt || true)
[ "$rc" = 1 ] || fail "the sync fails with exit 1 (rc=$rc: $out $(cat err.txt))"
grep -qF "store $(url ib_bg): storing a page of 200 tickets of source 'desk' (from id T401): refused by test" <<<"$line" ||
  fail "one line names the store, the page and the failure: $(cat err.txt)"
[ "$(qs ib_bg "SELECT count(*) FROM tickets")" = 400 ] ||
  fail "the 2 pages before the refused one are stored: $(qs ib_bg "SELECT count(*) FROM tickets") rows"
[ "$(qs ib_bg "SELECT count(*) FROM tickets WHERE substr(id, 2)::int BETWEEN 1 AND 400")" = 400 ] ||
  fail "and they are rows 1 to 400"
[ "$(qs ib_bg "SELECT count(*) FROM sync_state WHERE watermark IS NOT NULL")" = 0 ] ||
  fail "the watermark is not advanced"
s=$(summary <<<"$out")
grep -qF " 400 new, 0 changed, 0 unchanged" <<<"$s" && grep -qF FAILED <<<"$s" ||
  fail "the summary counts what the store holds: $s"
[ "$(qs ib_bg "SELECT records_stored || ' ' || ok FROM sync_runs ORDER BY id DESC LIMIT 1")" = "400 false" ] ||
  fail "the run is recorded as failed with 400 records stored"
st=$(ib a.cfg status 2>&1 || true)
grep -qF "refused by test" <<<"$st" || fail "status shows the last error: $st"
qs ib_bg "DROP TRIGGER refuse ON tickets" >/dev/null
out=$(ib a.cfg sync) || fail "the sync after the trigger is dropped: $out"
grep -qF "desk: 1000 read, 600 new, 0 changed, 400 unchanged" <<<"$out" ||
  fail "the next sync completes: $out"
[ "$(qs ib_bg "SELECT count(*) FROM tickets")" = 1000 ] || fail "every row is stored"
[ "$(qs ib_bg "SELECT count(*) FROM sync_state WHERE watermark IS NOT NULL")" = 1 ] ||
  fail "and the watermark is advanced"

# --- a refusal in the last page: found by finish_pages ------------------
config "store = { url = \"$(url ib_last)\"; };" a.csv 200 >last.cfg
create_store last.cfg ib_last
refuse ib_last T1000
set +e
out=$(ib last.cfg sync 2>err.txt)
rc=$?
set -e
s=$(summary <<<"$out")
[ "$rc" = 1 ] && grep -qF "refused by test" err.txt &&
  grep -qF " 800 new, 0 changed, 0 unchanged" <<<"$s" ||
  fail "a refused last page: rc=$rc $s $(cat err.txt)"
[ "$(qs ib_last "SELECT count(*) FROM tickets")" = 800 ] &&
  [ "$(qs ib_last "SELECT records_stored FROM sync_runs ORDER BY id DESC LIMIT 1")" = 800 ] &&
  [ "$(qs ib_last "SELECT count(*) FROM sync_state WHERE watermark IS NOT NULL")" = 0 ] ||
  fail "a refused last page: 4 pages stored, no watermark"

# --- a first load with an id twice in a page and again in a later page ---
{
  rows 12 | sed -n '1,6p'                                                    # T1..T5
  echo "T3;Ticket 3, again;ERP;Basse;05/10/2026 09:00;05/10/2026 12:00;05/10/2026 13:00" # twice in page 1
  rows 12 | sed -n '7,13p'                                                   # T6..T12
  echo "T2;Ticket 2, later;ERP;Haute;05/10/2026 09:00;05/10/2026 14:00;05/10/2026 14:00" # in a later page
  echo "T7;Ticket 7;ERP;Haute;05/10/2026 09:00;05/10/2026 12:00;05/10/2026 12:07"         # as stored
} >twice.csv
config 'store = { path = "twice.db"; };' twice.csv 6 >twice-sq.cfg
config "store = { url = \"$(url ib_twice)\"; };" twice.csv 6 >twice-pg.cfg
create_store twice-pg.cfg ib_twice
probes0=$(qs ib_twice "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE indexrelname = 'tickets_pkey'")
sq_out=$(ib twice-sq.cfg sync) || fail "SQLite sync: $sq_out"
pg_out=$(ib twice-pg.cfg sync) || fail "PostgreSQL sync: $pg_out"
[ "$(untimed <<<"$sq_out")" = "$(untimed <<<"$pg_out")" ] ||
  fail "reports differ: SQLite '$sq_out', PostgreSQL '$pg_out'"
grep -qF "desk: 15 read, 12 new, 2 changed, 1 unchanged" <<<"$pg_out" ||
  fail "an id twice in a page and again later: $pg_out"
[ "$(sq_snapshot twice.db)" = "$(PGDATABASE=ib_twice pg_snapshot)" ] ||
  fail "the stores differ: $(diff <(sq_snapshot twice.db) <(PGDATABASE=ib_twice pg_snapshot))"
sq_changes=$(sqlite3 twice.db "SELECT record_id, field, old_value, new_value FROM changes ORDER BY record_id, seq")
pg_changes=$(qs ib_twice "SELECT record_id || '|' || field || '|' || coalesce(old_value, '') || '|' || coalesce(new_value, '') FROM changes ORDER BY record_id, seq")
[ -n "$sq_changes" ] && [ "$sq_changes" = "$pg_changes" ] ||
  fail "the recorded changes differ: SQLite '$sq_changes', PostgreSQL '$pg_changes'"
# The statistics of the sync's session reach the server when it ends.
for _ in $(seq 50); do
  probes=$(qs ib_twice "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE indexrelname = 'tickets_pkey'")
  [ "$probes" != "$probes0" ] && break
  sleep 0.1
done
[ $((probes - probes0)) -le 10 ] ||
  fail "a first load looks up only the ids met again: $((probes - probes0)) probes of the key for 15 records"
echo "first load: $((probes - probes0)) probes of the tickets key for 15 records"
echo "PASS"
