#!/bin/bash
# test_kpi_period_index.sh -- a period's tickets read by index give what
# the sequential scan gives: the same rows (open tickets, tickets carried
# over from the month before, resolved "before" created, deleted ones left
# out), the same pauses and outages, in the same order. The SQLite store
# scans when the period holds a quarter of the store or more and uses the
# period indexes below that (store_sqlite.c, COHORT_SCAN_SHARE): a random
# store (tests/reference/kpi_gen.py, anomalies and deleted rows included)
# is measured once as it is (October is most of it: scans), then again
# after 20,000 resolved tickets of earlier years are added (indexes), and
# every KPI output, listing and export must be byte for byte the same.
# Writes only to a temporary directory.
set -euo pipefail
: "${IB_BIN:?}" "${IB_SOURCE_DIR:?}"
export TZDIR=/usr/share/zoneinfo
ref="$IB_SOURCE_DIR/tests/reference"
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The tickets TICKET_FILTER keeps for [from, to), counted in SQL, and the
# rows of the store: whether a load of that period goes by index.
cohort() { # DB FROM TO
  sqlite3 "$1" "SELECT count(*) FROM tickets WHERE (created_at < $3 AND
    (resolved_at IS NULL OR resolved_at >= $2)) OR (resolved_at < created_at
    AND resolved_at < $3 AND created_at >= $2)"
}
rows() { sqlite3 "$1" 'SELECT max(rowid) FROM tickets'; }

# outputs DIR TAG: every output of both months at three instants.
outputs() {
  local dir=$1 tag=$2 m a
  mkdir -p "$dir/$tag"
  for m in 2026-10 2026-11; do
    for a in 2026-10-20T12:00:00Z 2026-11-10T00:00:00Z 2026-12-01T00:00:00Z; do
      local o="$dir/$tag/$m-$a"
      "$IB_BIN" -c "$dir/kpi.cfg" kpi --month "$m" --as-of "$a" --format json \
        >"$o.kpi.json" 2>"$o.kpi.err" || fail "$tag kpi $m $a exited $?"
      "$IB_BIN" -c "$dir/kpi.cfg" kpi --month "$m" --as-of "$a" --breaches \
        --format csv >"$o.breaches.csv" 2>/dev/null || fail "$tag --breaches $m $a"
      "$IB_BIN" -c "$dir/kpi.cfg" kpi --month "$m" --as-of "$a" --disagreements \
        --format json >"$o.disagreements.json" 2>/dev/null || fail "$tag --disagreements $m $a"
      "$IB_BIN" -c "$dir/kpi.cfg" export --format csv --out "$o.export" \
        --month "$m" --as-of "$a" >/dev/null 2>&1 || fail "$tag export $m $a"
    done
  done
}

# October 2026 in Paris, as the store sees it.
oct_from=1790805600 oct_to=1793487600
for seed in 1 2; do
  dir="$work/seed$seed"
  mkdir -p "$dir"
  "$py" "$ref/kpi_gen.py" config --dir "$dir"
  "$IB_BIN" -c "$dir/kpi.cfg" kpi --month 2026-10 --format json >/dev/null
  "$py" "$ref/kpi_gen.py" data --store "$dir/store.db" --seed "$seed" --tickets 600
  n=$(rows "$dir/store.db") c=$(cohort "$dir/store.db" $oct_from $oct_to)
  ((c * 4 >= n)) || fail "seed $seed: October holds $c of $n tickets: not a scan"
  outputs "$dir" scan
  # Resolved tickets of 2025 to August 2026, after the random ones (their
  # storage order is unchanged): no period measured here contains them.
  "$py" "$ref/kpi_gen.py" background --store "$dir/store.db" --tickets 20000
  n=$(rows "$dir/store.db") c=$(cohort "$dir/store.db" $oct_from $oct_to)
  ((c * 4 < n)) || fail "seed $seed: October holds $c of $n tickets: not by index"
  outputs "$dir" index
  diff -r "$dir/scan" "$dir/index" >"$dir/diff" ||
    { head -n 20 "$dir/diff"; fail "seed $seed: outputs by index differ from the scan's"; }
  [ -s "$dir/scan/2026-10-2026-11-10T00:00:00Z.breaches.csv" ] || fail "no breaches listed"
  grep -q '"reason"' "$dir/scan/2026-10-2026-11-10T00:00:00Z.disagreements.json" ||
    fail "no disagreement listed"
  grep -q '^warning: ticket ' "$dir/scan/2026-10-2026-11-10T00:00:00Z.kpi.err" ||
    fail "no impossible time met"
  echo "seed $seed: $(find "$dir/scan" -type f | wc -l) outputs identical by scan and by index"
done
