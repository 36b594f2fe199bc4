#!/bin/bash
# test_kpi_impossible_times.sh -- a ticket resolved (or answered) "before" it
# was created, as a provider's clock or import error leaves it, is counted
# and reported, never dropped: end to end from a CSV source through the
# SQLite store and through the PostgreSQL store (a throwaway server,
# tests/support/pg_server.sh), `kpi --format json` for the month of its
# resolution and the month of its creation. It is in the resolution cohort
# of the first and the first-response cohort of the second, as 0 s, with
# one warning line on stderr naming it. Months are Europe/Paris months, and
# one ticket's reversed span straddles the Paris month boundary. Fails
# (never skips) when PostgreSQL cannot start. Writes only in its temp dir
# and the throwaway server.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
# shellcheck source=../support/pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"
export TZDIR=/usr/share/zoneinfo

work=$(mktemp -d)
cleanup() {
  pg_server_stop
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

# D1 sound: response 20 min, resolution 2 h (October).
# D2 created 2 Nov 10:00Z, never answered, "resolved" 30 Oct 10:00Z.
# D3 created 3 Nov 09:00Z, "answered" 31 Oct 20:00Z, resolved 3 Nov 11:00Z.
# D4 created 31 Oct 23:30Z (1 Nov 00:30 in Paris: November), "resolved"
#    31 Oct 22:30Z (23:30 in Paris: October).
cat >desk.csv <<'CSV'
id,title,kind,priority,status,created,first_response,resolved
D1,sound,Incident,P1,resolved,2026-10-05T10:00:00Z,2026-10-05T10:20:00Z,2026-10-05T12:00:00Z
D2,clock,Incident,P1,resolved,2026-11-02T10:00:00Z,,2026-10-30T10:00:00Z
D3,import,Incident,P1,resolved,2026-11-03T09:00:00Z,2026-10-31T20:00:00Z,2026-11-03T11:00:00Z
D4,boundary,Incident,P1,resolved,2026-10-31T23:30:00Z,,2026-10-31T22:30:00Z
CSV
body() {
  cat <<'CFG'
timezone = "Europe/Paris";
calendars = ( { name = "24x7"; timezone = "UTC"; } );
sources = (
  { name = "desk"; plugin = "csv"; path = "desk.csv";
    columns = { id = "id"; title = "title"; kind = "kind"; priority = "priority";
                status = "status"; created = "created";
                first_response = "first_response"; resolved = "resolved"; };
    priorities = ( ("P1", "P1") );
    statuses = ( ("resolved", "resolved") );
    kinds = ( ("Incident", "incident") ); }
);
slas = ( { name = "support"; calendar = "24x7";
    targets = ( { priority = "P1"; first_response = "30m"; resolution = "4h"; } ); } );
CFG
}

pg_server_start || fail "could not start a throwaway PostgreSQL server"
export PGPASSFILE="$work/no-pgpass" PGPASSWORD=$PG_TEST_PASSWORD
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE ib_store" >/dev/null
{ echo 'store = { path = "sq.db"; };'; body; } >sq.cfg
{ echo "store = { url = \"postgresql://$PGUSER@127.0.0.1:$PGPORT/ib_store\"; };"; body; } >pg.cfg

ib() { "$IB_BIN" -c "$1.cfg" --plugin-dir "$IB_PLUGIN_DIR" "${@:2}"; }

for store in sq pg; do
  out=$(ib "$store" sync 2>&1) || fail "$store sync exited $?: $out"
  grep -qF "desk: 4 read, 4 new, 0 changed, 0 unchanged, 0 rejected" <<<"$out" || fail "$store sync: $out"
  for month in 2026-10 2026-11; do
    ib "$store" kpi --month "$month" --as-of 2026-12-05T00:00:00Z --format json \
      >"$store-$month.json" 2>"$store-$month.err" ||
      fail "$store kpi $month exited $?: $(cat "$store-$month.err")"
  done
done

check() { # STORE MONTH: the figures and the warnings of that month
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
store, month = sys.argv[1], sys.argv[2]
doc = json.load(open("%s-%s.json" % (store, month)))
err = open("%s-%s.err" % (store, month)).read().splitlines()
tot = doc["slas"][0]["total"]
fr, res = tot["first_response"], tot["resolution"]
bad = []
def want(what, got, expected):
    if got != expected:
        bad.append("%s: %r, expected %r" % (what, got, expected))
if month == "2026-10":
    # D1 responds in 1200 s; D1 (7200 s), D2 and D4 (0 s) are resolved.
    want("first_response.tickets", fr["tickets"], 1)
    want("first_response.mean_s", fr["mean_s"], 1200)
    want("resolution.tickets", res["tickets"], 3)
    want("resolution.met", res["met"], 3)
    want("resolution.mttr_s", res["mttr_s"], 2400)
    want("resolution.median_s", res["median_s"], 0)
    flagged = ["D2", "D4"]
else:
    # D2, D3 and D4 are created in November: 0 s each; D3 resolved in 7200 s.
    want("first_response.tickets", fr["tickets"], 3)
    want("first_response.met", fr["met"], 3)
    want("first_response.mean_s", fr["mean_s"], 0)
    want("first_response.p90_s", fr["p90_s"], 0)
    want("resolution.tickets", res["tickets"], 1)
    want("resolution.mttr_s", res["mttr_s"], 7200)
    flagged = ["D2", "D3", "D4"]
want("warning lines", len(err), len(flagged))
for key in flagged:
    lines = [l for l in err if l.startswith("warning: ticket %s (source desk)" % key)]
    want("warning for %s" % key, len(lines), 1)
if not any("resolved 2026-10-30T10:00:00Z, before its creation" in l for l in err):
    bad.append("no warning names D2's resolution instant: %r" % err)
for line in bad:
    print("FAIL %s %s: %s" % (store, month, line))
sys.exit(1 if bad else 0)
PY
}
for store in sq pg; do
  for month in 2026-10 2026-11; do
    check "$store" "$month" || fail "$store $month figures (see above)"
  done
done
for month in 2026-10 2026-11; do
  cmp -s "sq-$month.json" "pg-$month.json" ||
    { diff "sq-$month.json" "pg-$month.json" | head; fail "kpi $month: PostgreSQL differs from SQLite"; }
done
echo "ok: impossible times counted as 0 s in both months, both stores"
