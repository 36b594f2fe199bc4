#!/bin/bash
# test_store_pg_pages.sh -- the PostgreSQL store writes a page of records at
# a time (COPY and keyed lookups, store_pg.c): against a real, throwaway
# server (tests/support/pg_server.sh), side by side with the SQLite store.
# Hostile text (tabs, newlines, carriage returns, backslashes, "\N", "\.",
# quotes, braces, commas, "NULL", non-ASCII) in ids and texts round-trips
# byte for byte, also through the recorded changes; a record put twice in
# one page is compared with its first version as SQLite does; kill -9 and
# Ctrl-C in the middle of a sync keep the committed pages whole and the
# previous watermark, and the next sync gives exactly the store an
# uninterrupted sync gives. Fails (never skips) when PostgreSQL cannot
# start. Writes only in its temp dir and the throwaway server.
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
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pg_server_stop
  rm -rf "$work"
}
trap cleanup EXIT

pg_server_start || fail "could not start a throwaway PostgreSQL server"
cd "$work"
export PGPASSFILE="$work/no-pgpass"
export PGPASSWORD=$PG_TEST_PASSWORD
for db in ib_hostile ib_twice ib_crash ib_ref ib_int; do q -c "CREATE DATABASE $db" >/dev/null; done
url() { echo "postgresql://$PGUSER@127.0.0.1:$PGPORT/$1"; }

# config STORE_LINE CSV [COMMIT_EVERY]: one CSV source "desk" on file CSV.
config() {
  cat <<CFG
$1
timezone = "UTC";
sources = (
  { name = "desk"; plugin = "csv"; path = "$2"; commit_every = ${3:-5000};
    columns = { id = "id"; title = "title"; kind = "kind"; priority = "priority";
                status = "status"; service = "service"; group = "grp";
                created = "created"; resolved = "resolved"; updated = "updated"; };
    priorities = ( ("Haute", "P2"), ("Basse", "P4") );
    statuses = ( ("En cours", "open"), ("Résolu", "resolved") );
    kinds = ( ("Incident", "incident") ); }
);
CFG
}

# --- hostile text: byte for byte, ids and texts, rows and changes ----------
# Every text of a ticket and of its recorded changes as hex, one line per
# row, NULL as "-": the same text for both backends when they hold the same
# bytes.
TEXT_COLS="source id key title kind kind_raw priority_raw status status_raw service grp"
CHANGE_COLS="source record_id kind field old_value new_value"
sq_hex() { # $1: the SQLite file
  local t="" c="" col
  for col in $TEXT_COLS; do t="$t || '|' || CASE WHEN $col IS NULL THEN '-' ELSE hex($col) END"; done
  for col in $CHANGE_COLS; do c="$c || '|' || CASE WHEN $col IS NULL THEN '-' ELSE hex($col) END"; done
  sqlite3 "$1" "SELECT ''$t FROM tickets ORDER BY hex(source), hex(id);
                SELECT ''$c FROM changes ORDER BY hex(source), hex(record_id), seq;"
}
pg_hex() { # $1: the database
  local t="" c="" col
  for col in $TEXT_COLS; do
    t="$t || '|' || CASE WHEN $col IS NULL THEN '-' ELSE upper(encode(convert_to($col, 'UTF8'), 'hex')) END"
  done
  for col in $CHANGE_COLS; do
    c="$c || '|' || CASE WHEN $col IS NULL THEN '-' ELSE upper(encode(convert_to($col, 'UTF8'), 'hex')) END"
  done
  PGOPTIONS="-c search_path=itsm_bridge_store" q -d "$1" \
    -c "SELECT ''$t FROM tickets
        ORDER BY upper(encode(convert_to(source, 'UTF8'), 'hex')),
                 upper(encode(convert_to(id, 'UTF8'), 'hex'))" \
    -c "SELECT ''$c FROM changes
        ORDER BY upper(encode(convert_to(source, 'UTF8'), 'hex')),
                 upper(encode(convert_to(record_id, 'UTF8'), 'hex')), seq"
}

# hostile.csv VERSION: the same ids, texts that differ by version (so that
# the second sync records a change of each hostile text), updated a month
# later (so that the second sync reads every row again).
write_hostile() {
  /usr/bin/python3 - "$1" <<'PY'
import sys
v = sys.argv[1]
ids = ['H1', 'A"1', 'B\\2', 'C,3', '{D}', 'E F', 'NULL', '\\N', 'é-ü-€-😀',
       'tab\tnew\nline']
texts = ['tab\there', 'new\nline', 'cr\rhere', 'back\\slash', '\\N', '\\.',
         'quote "x"', '{a,b}', 'NULL', '', 'end\\', '\\\\t', 'mixed\t\\n\n\r\\']
def csv(s):
    return '"' + s.replace('"', '""') + '"'
rows = ["id,title,kind,priority,status,service,grp,created,resolved,updated"]
for i, key in enumerate(ids):
    title = texts[i % len(texts)] + ' v' + v
    service = texts[(i + 3) % len(texts)] + v
    grp = texts[(i + 7) % len(texts)]
    if v == "2":
        grp = grp + '\t2'
    day = 1 + i
    rows.append(','.join([csv(key), csv(title), 'Incident', 'Haute', 'En cours',
                          csv(service), csv(grp), f'2026-10-{day:02d}T08:00:00Z',
                          '', f'2026-{9 + int(v)}-{day:02d}T09:00:00Z']))
open('hostile.csv', 'w', encoding='utf-8', newline='').write('\r\n'.join(rows) + '\r\n')
PY
}
config 'store = { path = "hostile.db"; };' hostile.csv >hostile-sq.cfg
config "store = { url = \"$(url ib_hostile)\"; };" hostile.csv >hostile-pg.cfg
for v in 1 2; do
  write_hostile "$v"
  sq_out=$(ib hostile-sq.cfg sync) || fail "hostile v$v SQLite sync: $sq_out"
  pg_out=$(ib hostile-pg.cfg sync) || fail "hostile v$v PostgreSQL sync: $pg_out"
  echo "$pg_out"
  [ "$(untimed <<<"$sq_out")" = "$(untimed <<<"$pg_out")" ] ||
    fail "hostile v$v: reports differ: SQLite '$sq_out', PostgreSQL '$pg_out'"
done
grep -qF "desk: 10 read, 0 new, 10 changed, 0 unchanged, 0 rejected" <<<"$pg_out" ||
  fail "hostile v2 did not change every record: $pg_out"
# The hostile bytes did reach the store (SQLite, written with bound
# parameters, is the reference): a tab, a newline, a CR, a backslash.
for ch in 09 0A 0D 5C; do
  [ "$(sqlite3 hostile.db "SELECT count(*) FROM tickets WHERE instr(hex(title), '$ch') % 2 = 1")" -gt 0 ] ||
    [ "$(sqlite3 hostile.db "SELECT count(*) FROM tickets WHERE hex(title) LIKE '%$ch%'")" -gt 0 ] ||
    fail "no title holds byte 0x$ch: the test data lost it"
done
[ "$(sqlite3 hostile.db "SELECT count(*) FROM changes WHERE field = 'group'")" = 10 ] ||
  fail "SQLite did not record the 10 group changes"
sq_h=$(sq_hex hostile.db)
pg_h=$(pg_hex ib_hostile)
[ "$sq_h" = "$pg_h" ] ||
  { diff <(echo "$sq_h") <(echo "$pg_h") | head; fail "hostile texts differ between the stores"; }
sq_snap=$(sq_snapshot hostile.db)
pg_snap=$(PGDATABASE=ib_hostile pg_snapshot)
[ "$sq_snap" = "$pg_snap" ] ||
  { diff <(echo "$sq_snap") <(echo "$pg_snap") | head; fail "hostile: tables differ"; }
# history --format json without the detection times (the runs differ).
untimed_history() { sed -E 's/"detected_at": *"[^"]*"/"detected_at": X/g'; }
for id in 'A"1' 'NULL' '\N' 'é-ü-€-😀'; do
  a=$(ib hostile-sq.cfg history desk "$id" --format json | untimed_history) ||
    fail "SQLite history $id"
  b=$(ib hostile-pg.cfg history desk "$id" --format json | untimed_history) ||
    fail "PostgreSQL history $id"
  [ "$a" = "$b" ] || fail "history of $id differs: $a / $b"
  grep -q '"field": *"group"' <<<"$b" || fail "history of $id has no group change: $b"
done

# --- one record twice in a page: the second is compared with the first ----
cat >twice.csv <<'CSV'
id,title,kind,priority,status,service,grp,created,resolved,updated
T1,first,Incident,Haute,En cours,ERP,g,2026-10-01T08:00:00Z,,2026-10-01T08:00:00Z
T2,other,Incident,Haute,En cours,ERP,g,2026-10-01T08:00:00Z,,2026-10-01T08:00:00Z
T1,second,Incident,Basse,Résolu,ERP,g,2026-10-01T08:00:00Z,2026-10-01T10:00:00Z,2026-10-01T10:00:00Z
T1,second,Incident,Basse,Résolu,ERP,g,2026-10-01T08:00:00Z,2026-10-01T10:00:00Z,2026-10-01T10:00:00Z
CSV
config 'store = { path = "twice.db"; };' twice.csv >twice-sq.cfg
config "store = { url = \"$(url ib_twice)\"; };" twice.csv >twice-pg.cfg
sed -i 's/name = "desk"/name = "twice"/' twice-sq.cfg twice-pg.cfg
sq_out=$(ib twice-sq.cfg sync) || fail "twice SQLite sync: $sq_out"
pg_out=$(ib twice-pg.cfg sync) || fail "twice PostgreSQL sync: $pg_out"
echo "$pg_out"
grep -qF "twice: 4 read, 2 new, 1 changed, 1 unchanged, 0 rejected" <<<"$pg_out" ||
  fail "a record twice in a page: $pg_out"
[ "$(untimed <<<"$sq_out")" = "$(untimed <<<"$pg_out")" ] || fail "twice: reports differ: $sq_out"
a=$(ib twice-sq.cfg history twice T1 --format json | untimed_history)
b=$(ib twice-pg.cfg history twice T1 --format json | untimed_history)
[ "$a" = "$b" ] || fail "history of T1 differs: $a / $b"
grep -q '"field": *"priority"' <<<"$b" || fail "T1's priority change not recorded: $b"

# --- kill -9 and Ctrl-C in the middle of a sync ---------------------------
# A first sync of 500 rows sets the watermark; the second file holds them
# and 60,000 more (updated later), committed 2,000 rows at a time.
/usr/bin/python3 - <<'PY'
def write(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,title,kind,priority,status,service,grp,created,resolved,updated\n")
        for i in range(n):
            d, h = 1 + i % 28, i % 24
            upd = "2026-10-28T23:00:00Z" if i < 500 else f"2026-11-{d:02d}T{h:02d}:30:00Z"
            res = f"2026-10-{d:02d}T{h:02d}:45:00Z" if i % 3 == 0 else ""
            st = "Résolu" if res else "En cours"
            f.write(f'K{i},"Ticket {i}\twith a tab",Incident,Haute,{st},ERP,g,'
                    f"2026-10-{d:02d}T{h:02d}:00:00Z,{res},{upd}\n")
write("small.csv", 500)
write("big.csv", 60500)
PY
count_of() { q -d "$1" -c "SELECT count(*) FROM itsm_bridge_store.tickets"; }
wm_of() { q -d "$1" -c "SELECT watermark FROM itsm_bridge_store.sync_state WHERE source = 'desk'"; }
for db in ib_crash ib_ref ib_int; do
  config "store = { url = \"$(url "$db")\"; };" small.csv 2000 >"$db-small.cfg"
  config "store = { url = \"$(url "$db")\"; };" big.csv 2000 >"$db-big.cfg"
  out=$(ib "$db-small.cfg" sync) || fail "$db: first sync: $out"
done
wm1=$(wm_of ib_ref)
[ "$wm1" = "$(date -u -d 2026-10-28T23:00:00Z +%s)" ] || fail "first watermark $wm1"
out=$(ib ib_ref-big.cfg sync) || fail "reference sync: $out"
grep -qF "desk: 60500 read, 60000 new, 0 changed, 500 unchanged, 0 rejected" <<<"$out" ||
  fail "reference sync: $out"
reference=$(PGDATABASE=ib_ref pg_snapshot)

# interrupt DB SIGNAL: starts the big sync, sends SIGNAL once a page past
# the first sync's 500 rows is committed, and prints the exit status.
interrupt() {
  "$IB_BIN" -c "$1-big.cfg" --plugin-dir "$IB_PLUGIN_DIR" sync >"$1.out" 2>"$1.err" &
  local p=$! n=0 rc=0
  bg_pids+=("$p")
  for _ in $(seq 1200); do
    kill -0 "$p" 2>/dev/null || break
    n=$(count_of "$1")
    [ "$n" -gt 500 ] && { kill "-$2" "$p"; break; }
    sleep 0.05
  done
  wait "$p" || rc=$?
  echo "$rc"
}
check_interrupted() { # DB: whole pages kept, the previous watermark
  local n
  n=$(count_of "$1")
  [ "$n" -gt 500 ] && [ "$n" -lt 60500 ] || fail "$1: $n rows: not interrupted mid-sync"
  # Pages of 2,000 rows of big.csv, whose first 500 rows are stored already.
  [ $((n % 2000)) = 0 ] || fail "$1: $n rows: a page was kept in part"
  [ "$(wm_of "$1")" = "$wm1" ] || fail "$1: the watermark moved to $(wm_of "$1") (was $wm1)"
  echo "$n"
}

rc=$(interrupt ib_crash KILL)
[ "$rc" = 137 ] || fail "kill -9: exit $rc: $(cat ib_crash.err)"
n=$(check_interrupted ib_crash)
echo "kill -9 kept $n rows"
out=$(ib ib_crash-big.cfg sync) || fail "sync after kill -9: $out"
[ "$(PGDATABASE=ib_crash pg_snapshot)" = "$reference" ] ||
  fail "kill -9 then sync differs from the uninterrupted store"

rc=$(interrupt ib_int INT)
[ "$rc" = 1 ] || fail "Ctrl-C: exit $rc: $(cat ib_int.err)"
grep -q "interrupted" ib_int.err || fail "Ctrl-C: no 'interrupted' message: $(cat ib_int.err)"
n=$(check_interrupted ib_int)
echo "Ctrl-C kept $n rows: $(cat ib_int.out)"
grep -qF "desk: " ib_int.out || fail "Ctrl-C: no summary: $(cat ib_int.out)"
# The summary counts what was committed: the pages kept.
grep -qF " $((n - 500)) new, 0 changed, 500 unchanged" ib_int.out ||
  fail "Ctrl-C: the summary does not count the $((n - 500)) rows committed: $(cat ib_int.out)"
out=$(ib ib_int-big.cfg sync) || fail "sync after Ctrl-C: $out"
[ "$(PGDATABASE=ib_int pg_snapshot)" = "$reference" ] ||
  fail "Ctrl-C then sync differs from the uninterrupted store"

echo "PASS"
