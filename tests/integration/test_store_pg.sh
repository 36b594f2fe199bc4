#!/bin/bash
# test_store_pg.sh -- the PostgreSQL store (store = { url = ...; }) against a
# real, throwaway server (tests/support/pg_server.sh), side by side with the
# SQLite store on the same data: syncs twice and with --full give the same
# tables in both stores and between runs, kpi --format json is identical,
# --full marks a removed row deleted (and a returning row undeleted), status
# works, a second sync is refused with the holder's pid and start, passwords
# come only from PGPASSWORD or a pgpass file, and a newer schema is refused.
# Fails (never skips) when PostgreSQL cannot start. Writes only in its temp
# dir and the throwaway server.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
# shellcheck source=../support/pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"
# shellcheck source=pgstore_lib.sh
source "$IB_SOURCE_DIR/tests/integration/pgstore_lib.sh"

work=$(mktemp -d)
bg_pids=()
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do
    kill "$p" 2>/dev/null || true
    kill -CONT "$p" 2>/dev/null || true # a paused one, to end
    wait "$p" 2>/dev/null || true
  done
  pg_server_stop
  rm -rf "$work"
}
trap cleanup EXIT

pg_server_start || fail "could not start a throwaway PostgreSQL server"
cd "$work"
# Never the caller's ~/.pgpass; PGPASSWORD unless a step says otherwise.
export PGPASSFILE="$work/no-pgpass"
export PGPASSWORD=$PG_TEST_PASSWORD
q -c "CREATE DATABASE ib_store" >/dev/null
export PGDATABASE=ib_store
url="postgresql://$PGUSER@127.0.0.1:$PGPORT/ib_store"

# --- the sample provider (CSV with pauses, rejects, outages), both stores --
ln -s "$IB_SOURCE_DIR/config" config
sed 's|^store = .*|store = { path = "var/sqlite.db"; };|' \
  config/sample/bridge.cfg >sq.cfg
sed "s|^store = .*|store = { url = \"$url\"; };|" config/sample/bridge.cfg >pg.cfg
grep -qF "url = \"$url\"" pg.cfg || fail "could not point pg.cfg at PostgreSQL"

for run in 1 2 3; do
  args=()
  [ "$run" = 3 ] && args=(--full)
  sq_out=$(ib sq.cfg sync "${args[@]}") || fail "SQLite sync $run exited $?: $sq_out"
  pg_out=$(ib pg.cfg sync "${args[@]}") || fail "PostgreSQL sync $run exited $?: $pg_out"
  echo "$pg_out"
  [ "$(untimed <<<"$sq_out")" = "$(untimed <<<"$pg_out")" ] ||
    { diff <(untimed <<<"$sq_out") <(untimed <<<"$pg_out") | head; fail "sync $run: reports differ"; }
  sq_snap=$(sq_snapshot var/sqlite.db)
  pg_snap=$(pg_snapshot)
  [ "$sq_snap" = "$pg_snap" ] ||
    { diff <(echo "$sq_snap") <(echo "$pg_snap") | head; fail "sync $run: tables differ from SQLite"; }
  [ "$run" = 1 ] && first_snap=$pg_snap
  [ "$pg_snap" = "$first_snap" ] || fail "sync $run changed the PostgreSQL store"
done
grep -qF "legacy: 400 read, 0 new, 0 changed, 396 unchanged, 4 rejected, 0 marked deleted" <<<"$pg_out" ||
  fail "--full did not re-read everything"
[ "$(q -c "SELECT count(*) FROM itsm_bridge_store.pauses")" -gt 0 ] || fail "no pauses stored"
[ "$(q -c "SELECT count(*) FROM itsm_bridge_store.sync_runs WHERE ok")" = 6 ] ||
  fail "expected 6 successful runs recorded"
[ "$(q -c "SELECT string_agg(\"full\"::text, ',' ORDER BY id) FROM itsm_bridge_store.sync_runs")" = \
  "false,false,false,false,true,true" ] || fail "runs: full flags"
[ "$(q -c "SELECT version FROM itsm_bridge_store.schema_version")" -ge 4 ] ||
  fail "schema_version is not current (4 or later)"

for month in 2026-08 2026-09 2026-10 2026-11; do
  ib sq.cfg kpi --month "$month" --as-of 2027-01-01T00:00:00Z --format json >sq-kpi.json
  ib pg.cfg kpi --month "$month" --as-of 2027-01-01T00:00:00Z --format json >pg-kpi.json
  cmp -s sq-kpi.json pg-kpi.json || { diff sq-kpi.json pg-kpi.json | head; fail "kpi $month differs"; }
  ib sq.cfg kpi --month "$month" --as-of 2027-01-01T00:00:00Z --breaches --format csv >sq-b.csv
  ib pg.cfg kpi --month "$month" --as-of 2027-01-01T00:00:00Z --breaches --format csv >pg-b.csv
  cmp -s sq-b.csv pg-b.csv || { diff sq-b.csv pg-b.csv | head; fail "breaches $month differ"; }
done
grep -q '"support-incidents"' pg-kpi.json || fail "kpi json has no SLA figures"

# status: the same per-source figures (times differ by the runs' seconds).
sq_status=$(ib sq.cfg status) || fail "SQLite status exited $?"
pg_status=$(ib pg.cfg status) || fail "PostgreSQL status exited $?: $pg_status"
echo "$pg_status"
[ "$(status_figures <<<"$sq_status")" = "$(status_figures <<<"$pg_status")" ] ||
  fail "status differs: $pg_status"
grep -Eq '^legacy +[0-9T:Z-]+ +[0-9T:Z-]+ .* 396 +0 +4 +-$' <<<"$pg_status" ||
  fail "status: legacy line"

# The store's tables live apart from the exporter's: both in one database.
ib pg.cfg export --format postgres --url "$url" --month 2026-10 >/dev/null ||
  fail "export --format postgres from a PostgreSQL store"
[ "$(q -c "SELECT count(*) FROM itsm_bridge.tickets")" -gt 0 ] || fail "export wrote no tickets"

# --- --full marks a removed row deleted, and a returning row undeleted ------
cat >desk.csv <<'CSV'
id,title,kind,priority,status,service,created,first_response,resolved
D1,ERP down,Incident,Critique,Résolu,ERP,2026-10-05T10:00:00Z,2026-10-05T10:20:00Z,2026-10-05T12:00:00Z
D2,Slow VPN,Incident,Critique,Résolu,VPN,2026-10-06T09:00:00Z,2026-10-06T10:00:00Z,2026-10-06T15:00:00Z
D3,"Printer, 2nd floor",Incident,Haute,En cours,Print,2026-10-10T08:00:00Z,,
CSV
for s in sq pg; do
  sed -n '/^store = /p' "$s.cfg" >"desk-$s.cfg"
  cat >>"desk-$s.cfg" <<'CFG'
timezone = "Europe/Paris";
calendars = ( { name = "24x7"; timezone = "UTC"; } );
sources = (
  { name = "desk"; plugin = "csv"; path = "desk.csv";
    columns = { id = "id"; title = "title"; kind = "kind"; priority = "priority";
                status = "status"; service = "service"; created = "created";
                first_response = "first_response"; resolved = "resolved";
                updated = "created"; };
    priorities = ( ("Critique", "P1"), ("Haute", "P2") );
    statuses = ( ("En cours", "open"), ("Résolu", "resolved") );
    kinds = ( ("Incident", "incident") ); }
);
slas = (
  { name = "support"; sources = [ "desk" ]; kinds = [ "incident" ]; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; },
                { priority = "P2"; first_response = "1h";  resolution = "8h"; } ); }
);
CFG
done
desk_kpi_same() { # $1: step, for messages
  ib desk-sq.cfg kpi --month 2026-10 --as-of 2027-01-01T00:00:00Z --format json >sq-kpi.json
  ib desk-pg.cfg kpi --month 2026-10 --as-of 2027-01-01T00:00:00Z --format json >pg-kpi.json
  cmp -s sq-kpi.json pg-kpi.json || { diff sq-kpi.json pg-kpi.json | head; fail "$1: kpi differs"; }
}
# P1 of SLA support in pg-kpi.json: "tickets met breached" of the first
# response, then of the resolution.
p1_figures() {
  /usr/bin/python3 -c 'import json, sys
k = json.load(open("pg-kpi.json"))
p = [b for s in k["slas"] if s["name"] == "support" for b in s["by_priority"]
     if b["priority"] == "P1"][0]
print(*(p[m][f] for m in ("first_response", "resolution")
        for f in ("tickets", "met", "breached")))'
}
deleted_of() {
  q -c "SELECT coalesce(deleted_at::text, 'none') FROM itsm_bridge_store.tickets
        WHERE source = 'desk' AND id = '$1'"
}

out=$(ib desk-sq.cfg sync) || fail "desk SQLite sync: $out"
out=$(ib desk-pg.cfg sync) || fail "desk sync: $out"
grep -qF "desk: 3 read, 3 new, 0 changed, 0 unchanged, 0 rejected" <<<"$out" || fail "desk sync: $out"
desk_kpi_same "3 tickets"
# D1 answered in 20 min, resolved in 2 h (met); D2 in 1 h and 6 h (breached).
[ "$(p1_figures)" = "2 1 1 2 1 1" ] || fail "P1 with D2: $(p1_figures)"

grep -v '^D2,' desk.csv >desk.tmp && mv desk.tmp desk.csv
out=$(ib desk-sq.cfg sync --full --allow-mass-delete) || fail "desk SQLite --full: $out"
before=$(date +%s)
out=$(ib desk-pg.cfg sync --full --allow-mass-delete) || fail "desk --full: $out"
after=$(date +%s)
echo "$out"
grep -qF "desk: 2 read, 0 new, 0 changed, 2 unchanged, 0 rejected, 1 marked deleted" <<<"$out" ||
  fail "--full did not mark D2 deleted: $out"
d2=$(deleted_of D2)
if ! { [ "$d2" != none ] && [ "$d2" -ge "$before" ] && [ "$d2" -le "$after" ]; }; then
  fail "D2 deleted_at $d2 not within the run [$before, $after]"
fi
[ "$(deleted_of D1)" = none ] || fail "D1 marked deleted"
grep -Eq '^desk .* 2 +0 +0 +-$' <<<"$(ib desk-pg.cfg status)" || fail "status after delete"
desk_kpi_same "D2 deleted"
[ "$(p1_figures)" = "1 1 0 1 1 0" ] || fail "P1 without D2: $(p1_figures)"

echo 'D2,Slow VPN,Incident,Critique,Résolu,VPN,2026-10-06T09:00:00Z,2026-10-06T10:00:00Z,2026-10-06T15:00:00Z' >>desk.csv
ib desk-sq.cfg sync --full >/dev/null || fail "desk SQLite --full again"
out=$(ib desk-pg.cfg sync --full) || fail "desk --full again: $out"
grep -qF "desk: 3 read, 0 new, 1 changed, 2 unchanged, 0 rejected, 0 marked deleted" <<<"$out" ||
  fail "--full again: $out"
[ "$(deleted_of D2)" = none ] || fail "D2 still deleted after it came back"
desk_kpi_same "D2 back"
[ "$(p1_figures)" = "2 1 1 2 1 1" ] || fail "P1 with D2 back: $(p1_figures)"

# A row rejected this time (a bad date) is no vanished row: --full keeps
# its stored version (the seen mark of a rejected record, both backends).
cp desk.csv desk.good
sed -i 's/^D2,\(.*\),2026-10-06T09:00:00Z,/D2,\1,2026-13-06T09:00:00Z,/' desk.csv
ib desk-sq.cfg sync --full >/dev/null || fail "desk SQLite --full with a bad row"
out=$(ib desk-pg.cfg sync --full) || fail "desk --full with a bad row: $out"
grep -qF "desk: 3 read, 0 new, 0 changed, 2 unchanged, 1 rejected, 0 marked deleted" <<<"$out" ||
  fail "--full with a rejected D2: $out"
[ "$(deleted_of D2)" = none ] || fail "D2 marked deleted because it was rejected"
desk_kpi_same "D2 rejected"
mv desk.good desk.csv

# The watermark (latest update stored; here the creation, D3's) never moves
# backwards, not even for a sync that reads only older rows.
wm_desk() { q -c "SELECT watermark FROM itsm_bridge_store.sync_state WHERE source = 'desk'"; }
[ "$(wm_desk)" = "$(date -u -d 2026-10-10T08:00:00Z +%s)" ] || fail "desk watermark $(wm_desk)"
head -n 2 desk.csv >older.csv # the header and D1, created 2026-10-05
sed 's|path = "desk.csv"|path = "older.csv"|' desk-pg.cfg >older-pg.cfg
out=$(ib older-pg.cfg sync --since 2026-10-01T00:00:00Z) || fail "older sync: $out"
grep -qF "desk: 1 read, 0 new, 0 changed, 1 unchanged" <<<"$out" || fail "older sync: $out"
[ "$(wm_desk)" = "$(date -u -d 2026-10-10T08:00:00Z +%s)" ] ||
  fail "the watermark moved backwards to $(wm_desk)"

# --- one sync at a time: the advisory lock ----------------------------------
key=$(q -c "SELECT lock_key FROM itsm_bridge_store.sync_lock")
[ -n "$key" ] || fail "no sync_lock row after a sync"

# Held by someone else (psql): named by its server process and session start.
q -c "SELECT pg_advisory_lock($key)" -c "SELECT pg_sleep(300)" \
  >/dev/null 2>&1 &
bg_pids+=($!)
holder=$(wait_lock_holder "$key") || fail "psql never took the lock"
since=$(q -c "SELECT to_char(backend_start AT TIME ZONE 'UTC',
                'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM pg_stat_activity WHERE pid = $holder")
if out=$(ib pg.cfg sync 2>&1); then fail "a sync ran while psql held the lock: $out"; fi
grep -qF "sync: another sync is running (pid $holder, since $since)" <<<"$out" ||
  fail "refusal message: $out (expected pid $holder, since $since)"
q -c "SELECT pg_terminate_backend($holder)" >/dev/null
wait_lock_free "$key" || fail "the lock stayed held after psql ended"
out=$(ib pg.cfg sync) || fail "sync after the lock was released: $out"

# Held by a running itsm-bridge: named by its own pid and start time.
/usr/bin/python3 - >big.csv <<'PY'
print("id,title,kind,priority,status,service,created,first_response,resolved")
for i in range(40000):
    d, h = 1 + i % 28, i % 24
    print(f"B{i},Ticket {i},Incident,Haute,En cours,ERP,2026-10-{d:02d}T{h:02d}:00:00Z,,")
PY
sed -e 's|path = "desk.csv"|path = "big.csv"|; s|name = "desk"|name = "big"|' \
  -e '/^slas = (/,$d' desk-pg.cfg >big.cfg
"$IB_BIN" -c big.cfg --plugin-dir "$IB_PLUGIN_DIR" sync >big.out 2>&1 &
big=$!
bg_pids+=("$big")
holder=$(wait_lock_holder "$key" noted "$big") ||
  fail "the big sync never took the lock: $(cat big.out)"
# Paused while the second sync tries (its session keeps the lock): the
# store writes 40,000 rows in about a second, faster than a loaded machine
# starts the second sync.
kill -STOP "$big" 2>/dev/null || fail "the big sync ended before the check: the test raced"
row=$(q -c "SELECT pid || ' ' || since FROM itsm_bridge_store.sync_lock
            WHERE backend_pid = $holder")
[ "${row%% *}" = "$big" ] || fail "sync_lock names pid '${row%% *}', expected $big"
since=$(date -u -d "@${row#* }" +%Y-%m-%dT%H:%M:%SZ)
if out=$(ib pg.cfg sync 2>&1); then fail "two syncs ran at once: $out"; fi
echo "$out"
grep -qF "sync: another sync is running (pid $big, since $since)" <<<"$out" ||
  fail "refusal message: $out (expected pid $big, since $since)"
kill -0 "$big" 2>/dev/null || fail "the big sync ended before the check: the test raced"
kill -CONT "$big"
wait "$big" || fail "the big sync failed: $(cat big.out)"
grep -qF "big: 40000 read, 40000 new, 0 changed, 0 unchanged, 0 rejected" big.out || fail "big sync: $(cat big.out)"
out=$(ib pg.cfg sync) || fail "sync after the big one: $out"

# --- passwords: never in the URL; PGPASSWORD or a pgpass file --------------
sed "s|^store = .*|store = { url = \"postgresql://$PGUSER:hunter2@127.0.0.1:$PGPORT/ib_store\"; };|" \
  pg.cfg >pw.cfg
if out=$(ib pw.cfg status 2>&1); then fail "a URL with a password was accepted"; fi
grep -qF "store url contains a password" <<<"$out" || fail "password refusal: $out"
grep -qF hunter2 <<<"$out" && fail "the password was printed: $out"

if out=$(PGPASSWORD=wrong ib pg.cfg status 2>&1); then fail "a wrong password worked"; fi
grep -qF "store $url: cannot connect:" <<<"$out" || fail "connection failure message: $out"
[ "$(wc -l <<<"$out")" = 1 ] || fail "connection failure is not one line: $out"

printf '127.0.0.1:%s:*:%s:%s\n' "$PGPORT" "$PGUSER" "$PG_TEST_PASSWORD" >"$work/pgpass"
chmod 600 "$work/pgpass"
out=$(env -u PGPASSWORD PGPASSFILE="$work/pgpass" \
  "$IB_BIN" -c pg.cfg --plugin-dir "$IB_PLUGIN_DIR" status) ||
  fail "status with a pgpass file: $out"

# --- a store from a newer itsm-bridge is refused, not altered -------------
q -c "UPDATE itsm_bridge_store.schema_version SET version = 99" >/dev/null
if out=$(ib pg.cfg status 2>&1); then fail "a newer schema was accepted"; fi
grep -Eq "schema version 99 is newer than this itsm-bridge understands \([0-9]+\)" <<<"$out" ||
  fail "newer schema message: $out"
q -c "UPDATE itsm_bridge_store.schema_version SET version = 1" >/dev/null

echo "PASS"
