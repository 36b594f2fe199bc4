#!/bin/bash
# test_export_pg.sh -- `export --format postgres` against a real, throwaway
# PostgreSQL server (tests/support/pg_server.sh): syncs a small CSV source,
# exports October 2026 twice (password from PGPASSWORD, then from a
# pgpass file), and checks no duplicates, the figures against
# `kpi --format json` and hand-computed values, the column types, the BI
# views, the late changes of the month (changes table), the refusal of a password in the URL, and the rollback of a failed
# export. Fails (never skips) when PostgreSQL cannot start. Must not write
# outside its temp dirs.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
# shellcheck source=../support/pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"

work=$(mktemp -d)
cleanup() {
  pg_server_stop
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

pg_server_start || fail "could not start a throwaway PostgreSQL server"
cd "$work"
# Passwords only where a step gives one: never the caller's ~/.pgpass.
unset PGPASSWORD
export PGPASSFILE="$work/no-pgpass"

# --- a small source: 6 tickets and 3 outages in October 2026 --------------
# Times are UTC; the month is read in Europe/Paris, so October 2026 is
# [2026-09-30T22:00Z, 2026-10-31T23:00Z): 31 days + 1 h (DST ends Oct 25).
cat >tickets.csv <<'CSV'
id,title,kind,priority,status,service,created,first_response,resolved
T1,ERP down,Incident,Critique,Résolu,ERP,2026-10-05T10:00:00Z,2026-10-05T10:20:00Z,2026-10-05T12:00:00Z
T2,Slow VPN,Incident,Critique,Résolu,VPN,2026-10-06T09:00:00Z,2026-10-06T10:00:00Z,2026-10-06T15:00:00Z
T3,"Printer, 2nd floor",Incident,Haute,Résolu,Print,2026-10-10T08:00:00Z,2026-10-10T08:30:00Z,2026-10-10T12:00:00Z
T4,New laptop,Demande,Haute,En cours,IT,2026-10-12T08:00:00Z,,
T5,Mail queue stuck,Incident,Haute,En cours,Mail,2026-10-30T10:00:00Z,,
T6,"Écran ""noir"" ; O'Brien",Incident,Critique,Clos,ERP,2026-10-20T00:00:00Z,2026-10-20T00:10:00Z,2026-10-20T01:00:00Z
CSV
cat >outages.csv <<'CSV'
ref,service,start,end,kind
O1,ERP,2026-10-05T10:00:00Z,2026-10-05T12:00:00Z,Panne
O2,ERP,2026-10-07T00:00:00Z,2026-10-07T02:00:00Z,Maintenance
O3,ERP,2026-10-15T00:00:00Z,2026-10-15T12:00:00Z,Panne
CSV
cat >bridge.cfg <<'CFG'
store = { path = "var/pg-test.db"; };
timezone = "Europe/Paris";
calendars = ( { name = "24x7"; timezone = "UTC"; } );
sources = (
  { name = "desk"; plugin = "csv"; path = "tickets.csv";
    columns = { id = "id"; title = "title"; kind = "kind"; priority = "priority";
                status = "status"; service = "service"; created = "created";
                first_response = "first_response"; resolved = "resolved"; };
    priorities = ( ("Critique", "P1"), ("Haute", "P2") );
    statuses = ( ("En cours", "open"), ("Résolu", "resolved"), ("Clos", "closed") );
    kinds = ( ("Incident", "incident"), ("Demande", "request") ); },
  { name = "desk-outages"; plugin = "csv"; records = "outages"; path = "outages.csv";
    columns = { id = "ref"; service = "service"; start = "start"; end = "end"; kind = "kind"; };
    kinds = ( ("Panne", "outage"), ("Maintenance", "planned") ); }
);
slas = (
  { name = "support"; kinds = [ "incident" ]; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; },
                { priority = "P2"; first_response = "1h";  resolution = "8h"; } );
    penalty = { monthly_fee = 1000.0; currency = "EUR"; per_response_breach_pct = 5.0;
                per_resolution_breach_pct = 2.0; cap_pct = 20.0; }; }
);
availability = (
  { service = "ERP"; target_pct = 99.5; calendar = "24x7";
    monthly_fee = 3000.0; currency = "EUR"; credit = "proportional"; }
);
CFG

ib() { "$IB_BIN" -c bridge.cfg --plugin-dir "$IB_PLUGIN_DIR" "$@"; }
PSQL=("$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1)
q() { PGPASSWORD=$PG_TEST_PASSWORD "${PSQL[@]}" -c "$1"; }

out=$(ib sync 2>&1) || fail "sync exited $?: $out"
grep -qF "desk: 6 read, 6 new, 0 changed, 0 unchanged, 0 rejected" <<<"$out" || fail "sync: $out"
grep -qF "desk-outages: 3 read, 3 new, 0 changed, 0 unchanged, 0 rejected" <<<"$out" || fail "sync: $out"

# --- a password in the URL is refused, and never echoed ------------------
secret_url="postgresql://itsm:s3cr3t-in-url@127.0.0.1:$PGPORT/postgres"
if out=$(ib export --format postgres --url "$secret_url" --month 2026-10 2>&1); then
  fail "a URL with a password was accepted"
fi
grep -qF "PGPASSWORD" <<<"$out" || fail "password refusal does not say what to do: $out"
! grep -qF "s3cr3t-in-url" <<<"$out" || fail "the password was echoed: $out"
[ "$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'itsm_bridge'")" = 0 ] ||
  fail "schema created despite the refusal"

# --- no password at all: a clear connection error, exit 1 -----------------
set +e
out=$(ib export --format postgres --url "$PG_URL" --month 2026-10 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "export without a password exited $rc: $out"
grep -qF "cannot connect to 127.0.0.1:$PGPORT/postgres" <<<"$out" ||
  fail "connection error does not name the server: $out"

# --- first export: password from PGPASSWORD ------------------------------
out=$(PGPASSWORD=$PG_TEST_PASSWORD ib export --format postgres --url "$PG_URL" \
  --month 2026-10 2>&1) || fail "first export exited $?: $out"
echo "$out"

S=itsm_bridge
counts() {
  q "SELECT (SELECT count(*) FROM $S.tickets) || ' ' ||
            (SELECT count(*) FROM $S.ticket_sla) || ' ' ||
            (SELECT count(*) FROM $S.kpi) || ' ' ||
            (SELECT count(*) FROM $S.availability) || ' ' ||
            (SELECT count(*) FROM $S.outages)"
}
# Everything but when it was computed and written, in a stable order.
snapshot() {
  local t cols
  for t in tickets ticket_sla kpi availability outages; do
    cols=$(q "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
              FROM information_schema.columns
              WHERE table_schema = '$S' AND table_name = '$t' AND column_name NOT IN ('as_of', 'exported_at')")
    q "SELECT $cols FROM $S.$t ORDER BY 1, 2, 3, 4"
  done
}
# 6 tickets; ticket_sla: T1 T2 T3 T5 T6 (T4 is a request, out of the SLA);
# kpi rows: as many as `kpi --format csv` writes; 1 service; 3 outages.
ib kpi --month 2026-10 --format csv >kpi.csv
kpi_rows=$(($(wc -l <kpi.csv) - 1))
counts1=$(counts)
[ "$counts1" = "6 5 $kpi_rows 1 3" ] || fail "row counts after the first export: $counts1 (want 6 5 $kpi_rows 1 3)"
snap1=$(snapshot)
at1=$(q "SELECT max(exported_at) FROM $S.kpi")

# A row the month no longer has (an SLA since renamed) must go; another
# month's row must stay.
q "INSERT INTO $S.kpi (period, sla, priority, kpi, value, period_from, period_to,
   as_of, exported_at) VALUES
   ('2026-10', 'renamed-sla', 'all', 'penalty.credit', 1, now(), now(), now(), now()),
   ('2026-09', 'support', 'all', 'penalty.credit', 2, now(), now(), now(), now())" >/dev/null

# --- second export: same month asked as --from/--to, password from a
# pgpass file (libpq reads PGPASSFILE, like ~/.pgpass) -------------------
printf '127.0.0.1:%s:*:itsm:%s\n' "$PGPORT" "$PG_TEST_PASSWORD" >"$work/pgpass"
chmod 0600 "$work/pgpass"
out=$(PGPASSFILE="$work/pgpass" ib export --format postgres \
  --url "$PG_URL" --from 2026-10-01 --to 2026-11-01 2>&1) ||
  fail "second export exited $?: $out"
[ "$(q "SELECT string_agg(period || ':' || sla, ',') FROM $S.kpi
       WHERE sla = 'renamed-sla' OR period = '2026-09'")" = "2026-09:support" ] ||
  fail "stale rows of the month were not purged, or another month's were"
q "DELETE FROM $S.kpi WHERE period = '2026-09'" >/dev/null
counts2=$(counts)
[ "$counts2" = "$counts1" ] || fail "duplicates after the second export: $counts2, was $counts1"
[ "$(snapshot)" = "$snap1" ] || fail "the second export changed the figures"
[ "$(q "SELECT count(*) FROM $S.kpi WHERE exported_at <= '$at1'")" = 0 ] ||
  fail "kpi rows not rewritten by the second export"
[ "$(q "SELECT count(DISTINCT period) || ':' || min(period) FROM $S.kpi")" = "1:2026-10" ] ||
  fail "the --from/--to export of a whole month did not reuse the month's key"

# --- the figures are those of `kpi --format json` -------------------------
ib kpi --month 2026-10 --format json >kpi.json
PGPASSWORD=$PG_TEST_PASSWORD /usr/bin/python3 \
  "$IB_SOURCE_DIR/tests/integration/pg_check_kpi.py" kpi.json \
  "$PG_BIN/psql" "$S" 2026-10 || fail "exported KPIs differ from kpi --format json"

# ... and hand-computed ones. P1 first response: T1 20 min met, T2 60 min
# breached (30 min target), T6 10 min met -> 2/3 = 66.667 %, p90 = 3600 s.
kv() { q "SELECT value FROM $S.kpi WHERE period = '2026-10' AND sla = '$1' AND priority = '$2' AND kpi = '$3'"; }
[ "$(kv support P1 first_response.compliance_pct)" = 66.667 ] || fail "P1 first-response compliance"
[ "$(kv support P1 first_response.p90_s)" = 3600 ] || fail "P1 first-response p90"
# P1 resolution: 2 h, 6 h (breached, 4 h target), 1 h -> MTTR 3 h.
[ "$(kv support P1 resolution.mttr_s)" = 10800 ] || fail "P1 MTTR"
# P2: T3 met, T5 unanswered for 37 h at the month's end -> breached,
# and its resolution at risk (open_breached).
[ "$(kv support P2 first_response.breached)" = 1 ] || fail "P2 first-response breaches"
[ "$(kv support P2 resolution.open_breached)" = 1 ] || fail "P2 open_breached"
# Penalty: 2 response breaches x 5 % + 1 resolution breach x 2 % = 12 %.
[ "$(kv support all penalty.credit)" = 120 ] || fail "penalty credit"
# ERP: O1 2 h + O3 12 h (O2 planned never counts) = 50400 s of 2682000 s.
[ "$(q "SELECT availability_pct || ' ' || breached || ' ' || downtime_s || ' ' || outages || ' ' || credit
       FROM $S.availability WHERE period = '2026-10' AND service = 'ERP'")" = \
  "98.121 true 50400 2 56.38" ] || fail "ERP availability row"
[ "$(q "SELECT response_s || ' ' || response_verdict || ' ' || resolution_s || ' ' ||
              resolution_verdict FROM $S.ticket_sla WHERE id = 'T2'")" = \
  "3600 breached 21600 breached" ] || fail "T2 per-ticket results"
[ "$(q "SELECT title FROM $S.tickets WHERE id = 'T6'")" = "Écran \"noir\" ; O'Brien" ] ||
  fail "UTF-8 and quotes in a title"
[ "$(q "SELECT created_at = '2026-10-20T00:00:00Z' FROM $S.tickets WHERE id = 'T6'")" = t ] ||
  fail "T6 created_at is not 2026-10-20T00:00:00Z"
[ "$(q "SELECT count(*) FROM $S.tickets WHERE id = 'T4' AND resolved_at IS NULL AND priority = 'P2'
       AND kind = 'request'")" = 1 ] || fail "T4 (open request) row"
[ "$(q "SELECT \"end\" - start FROM $S.outages WHERE id = 'O3'")" = "12:00:00" ] ||
  fail "O3 interval"

# --- proper types ---------------------------------------------------------
types=$(q "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns
           WHERE table_schema = '$S' AND (table_name, column_name) IN (
             ('tickets','created_at'), ('tickets','title'), ('tickets','pauses'),
             ('tickets','reported_response_breached'), ('ticket_sla','response_s'),
             ('kpi','value'), ('kpi','month'), ('availability','availability_pct'),
             ('availability','breached'), ('availability','credit'), ('outages','start'))
           ORDER BY 1")
want="availability.availability_pct:numeric
availability.breached:boolean
availability.credit:numeric
kpi.month:date
kpi.value:numeric
outages.start:timestamp with time zone
ticket_sla.response_s:bigint
tickets.created_at:timestamp with time zone
tickets.pauses:bigint
tickets.reported_response_breached:boolean
tickets.title:text"
[ "$types" = "$want" ] || fail "column types:
$types"
[ "$(q "SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       WHERE i.indisprimary AND i.indrelid = '$S.kpi'::regclass")" = "period,sla,priority,kpi" ] ||
  fail "kpi primary key"
# the disagreements table: keyed per ticket and KPI; the CSV source reports
# no verdict of its own, so it is empty
[ "$(q "SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       WHERE i.indisprimary AND i.indrelid = '$S.disagreements'::regclass")" = \
  "period,sla,source,id,kpi" ] || fail "disagreements primary key"
[ "$(q "SELECT count(*) FROM $S.disagreements")" = "0" ] || fail "disagreements rows"

# --- the BI views ---------------------------------------------------------
[ "$(q "SELECT month || '|' || value FROM $S.v_kpi_monthly WHERE sla = 'support'
       AND priority = 'P1' AND kpi = 'first_response.compliance_pct'")" = "2026-10-01|66.667" ] ||
  fail "v_kpi_monthly"
[ "$(q "SELECT * FROM $S.v_availability_monthly")" = "2026-10-01|ERP|98.121|99.5|50400|56.38" ] ||
  fail "v_availability_monthly: $(q "SELECT * FROM $S.v_availability_monthly")"

# --- late changes: the provider edits October after it ended --------------
# T1 downgraded Critique (P1) -> Haute (P2), T2's resolution back-dated
# 15:00 -> 11:00; the re-sync (now, after October) records both.
sed -i -e 's/^T1,ERP down,Incident,Critique,/T1,ERP down,Incident,Haute,/' \
  -e 's/^\(T2,.*\),2026-10-06T15:00:00Z$/\1,2026-10-06T11:00:00Z/' tickets.csv
out=$(ib sync --full 2>&1) || fail "re-sync exited $?: $out"
grep -qF "desk: 6 read, 0 new, 2 changed, 4 unchanged" <<<"$out" || fail "re-sync: $out"
for round in 1 2; do
  out=$(PGPASSWORD=$PG_TEST_PASSWORD ib export --format postgres --url "$PG_URL" \
    --month 2026-10 2>&1) || fail "export with late changes ($round) exited $?: $out"
done
[ "$(q "SELECT string_agg(id || ' ' || field || ' ' || category || ' ' || old_value || ' -> ' ||
              new_value || ' ' || kind || ' ' || (detected_at >= '2026-10-31T23:00:00Z'), ','
              ORDER BY change_id) FROM $S.changes WHERE period = '2026-10'")" = \
  "T1 priority priority_changed P1 -> P2 ticket true,T2 resolved_at resolution_moved 2026-10-06T15:00:00Z -> 2026-10-06T11:00:00Z ticket true" ] ||
  fail "changes rows: $(q "SELECT * FROM $S.changes")"
[ "$(q "SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       WHERE i.indisprimary AND i.indrelid = '$S.changes'::regclass")" = \
  "period,source,change_id" ] || fail "changes primary key"
[ "$(q "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY column_name)
       FROM information_schema.columns WHERE table_schema = '$S' AND table_name = 'changes'
       AND column_name IN ('change_id', 'detected_at', 'month', 'run_id')")" = \
  "change_id:bigint,detected_at:timestamp with time zone,month:date,run_id:bigint" ] ||
  fail "changes column types"

# --- a partial period gets its own key and stays out of the monthly views -
out=$(PGPASSWORD=$PG_TEST_PASSWORD ib export --format postgres --url "$PG_URL" \
  --schema bi_test --from 2026-10-01 --to 2026-10-08 2>&1) || fail "partial export: $out"
[ "$(q "SELECT count(*) FROM bi_test.kpi WHERE month IS NULL AND period LIKE '2026-09-30T22:00:00Z/%'")" -gt 0 ] ||
  fail "partial period key: $(q "SELECT DISTINCT period FROM bi_test.kpi")"
[ "$(q "SELECT count(*) FROM bi_test.v_kpi_monthly")" = 0 ] || fail "partial period in v_kpi_monthly"

# --- a failing row rolls everything back, naming the table and the row ---
# Only ERP's service time (2682000 s) breaks this check: a row deep in the
# batch, after tickets, outages and ticket_sla were written.
q "CREATE SCHEMA broken; CREATE TABLE broken.kpi (period text NOT NULL, sla text NOT NULL,
   priority text NOT NULL, kpi text NOT NULL, value numeric CHECK (value < 1000000),
   PRIMARY KEY (period, sla, priority, kpi))" >/dev/null
set +e
out=$(PGPASSWORD=$PG_TEST_PASSWORD ib export --format postgres --url "$PG_URL" \
  --schema broken --month 2026-10 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "a failing export exited $rc: $out"
grep -qF "broken.kpi at kpi period=2026-10 sla=ERP priority=all kpi=availability.service_time_s:" \
  <<<"$out" || fail "the error does not name the table and the row: $out"
grep -qF "violates check constraint" <<<"$out" || fail "the error lacks PostgreSQL's message: $out"
[ "$(q "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'broken'")" = 1 ] ||
  fail "tables written before the failure were not rolled back"
[ "$(q "SELECT count(*) FROM broken.kpi")" = 0 ] || fail "kpi rows left after a rollback"

echo "test_export_pg: ok"
