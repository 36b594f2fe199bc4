#!/bin/bash
# csv_bench.sh -- measures the csv plugin end to end: generates Excel-style
# exports (100,000 and 1,000,000 rows by default), and ROUNDS times
# (default 3) syncs each into a fresh store and has the sqlite3 shell
# .import the same file into a fresh database, the two alternating so that
# the machine's load hits both alike. Prints each round, then per size the
# median sync time, rows/s, peak RSS, the median .import time and the
# median of the per-round ratios sync/.import (issue 13's goal: <= 1.0).
# Each timed command starts with the page cache written out (quiesce_disk),
# so that neither pays for the writeback of the one before. Prints figures
# only; asserts nothing about speed.
#
#   bench/csv_bench.sh [BIN] [PLUGIN_DIR]     (run from the repository root)
#   defaults: build/itsm-bridge build/plugins; SIZES="100000 1000000" and
#   ROUNDS=3 to change
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench_lib.sh
source "$root/bench/bench_lib.sh"
bin=$(realpath "${1:-build/itsm-bridge}")
plugins=$(realpath "${2:-build/plugins}")
sizes=${SIZES:-"100000 1000000"}
rounds=${ROUNDS:-3}
[ -x "$bin" ] || { echo "no $bin: build first (cmake --build build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# seconds.fraction of a command's wall time, and its peak RSS in KiB
measure() { # measure LOG -- command...
  local log=$1; shift 2
  quiesce_disk
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>>"$log.err" || {
    cat "$log.err" >&2; return 1; }
}
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":");
  s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
rss_kib() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }

declare -A rss
summary=()
for n in $sizes; do
  dir="$work/$n"
  mkdir -p "$dir"
  /usr/bin/python3 "$root/config/sample/generate.py" --rows "$n" --out-dir "$dir"
  { echo "store = { path = \"$dir/bench.db\"; };"
    export_source "$dir/tickets.csv" updated; } >"$dir/bench.cfg"
  syncs=() imports=() ratios=() rsss=()
  printf '%-10s %6s %10s %10s %8s %9s\n' rows round sync_s import_s ratio rss_MiB
  for ((r = 1; r <= rounds; r++)); do
    rm -f "$dir"/bench.db* "$dir"/import.db*
    measure "$dir/sync.time" -- "$bin" -q -c "$dir/bench.cfg" --plugin-dir "$plugins" sync
    stored=$(sqlite3 "$dir/bench.db" "SELECT count(*) FROM tickets")
    [ "$stored" = "$n" ] || { echo "stored $stored of $n rows" >&2; exit 1; }
    # The baseline: the sqlite3 shell loading the same file into one table.
    measure "$dir/import.time" -- sqlite3 "$dir/import.db" ".mode csv" \
      ".separator ;" ".import $dir/tickets.csv raw"
    s=$(wall_s "$dir/sync.time"); i=$(wall_s "$dir/import.time")
    syncs+=("$s") imports+=("$i") rsss+=("$(rss_kib "$dir/sync.time")")
    ratios+=("$(awk -v s="$s" -v i="$i" 'BEGIN { printf "%.3f", (i > 0 ? s / i : 0) }')")
    awk -v n="$n" -v r="$r" -v s="$s" -v i="$i" -v q="${ratios[-1]}" -v m="${rsss[-1]}" \
      'BEGIN { printf "%-10d %6d %10.2f %10.2f %8.2f %9.1f\n", n, r, s, i, q, m / 1024 }'
  done
  ms=$(printf '%s\n' "${syncs[@]}" | median)
  mi=$(printf '%s\n' "${imports[@]}" | median)
  mr=$(printf '%s\n' "${ratios[@]}" | median)
  rss[$n]=$(printf '%s\n' "${rsss[@]}" | sort -n | tail -n 1)
  summary+=("$(awk -v n="$n" -v bytes="$(stat -c %s "$dir/tickets.csv")" -v s="$ms" \
    -v i="$mi" -v q="$mr" -v m="${rss[$n]}" 'BEGIN { printf "%-10d %10.1f %12.2f %12.0f %10.1f %12.2f %10.2f",
    n, bytes / 1048576, s, (s > 0 ? n / s : 0), m / 1024, i, q }')")
done
echo
printf '%-10s %10s %12s %12s %10s %12s %10s\n' rows file_MiB sync_s rows_per_s \
  rss_MiB import_s ratio
printf '%s\n' "${summary[@]}"
echo "medians over $rounds rounds; ratio = median of the per-round sync / sqlite3"
echo ".import times (the import parses CSV only: no dates, mappings, validation,"
echo "history or indexes)"

set -- $sizes
if [ $# -ge 2 ]; then
  first=$1; last=${!#}
  awk -v a="$first" -v b="$last" -v ra="${rss[$first]}" -v rb="${rss[$last]}" \
    'BEGIN { printf "peak RSS: %.1f MiB at %d rows, %.1f MiB at %d rows " \
             "(x%.2f for x%.0f rows)\n", ra / 1024, a, rb / 1024, b, rb / ra, b / a }'
fi
