#!/bin/bash
# resync_bench.sh -- what the history's digests buy (SPEC §9, issue 12):
# generates one 300,000-row Excel-style CSV export (as csv_bench.sh does),
# then, ROUNDS times (default 3), syncs it into a fresh store (the first
# sync: every record new) and syncs the same, unchanged file again (every
# record compared, none rewritten). The export has no "updated" column
# mapped, as many nightly exports: the csv plugin then cannot skip rows
# behind the watermark, and every sync reads and compares every row.
# Rounds are interleaved so that the machine's load hits
# both alike; prints each round, the median times and the ratio
# second/first (the goal: <= 0.3). Prints figures only; asserts nothing.
#
#   bench/resync_bench.sh [BIN] [PLUGIN_DIR]   (run from the repository root)
#   defaults: build/itsm-bridge build/plugins; ROWS=300000 ROUNDS=3 to change
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench_lib.sh
source "$root/bench/bench_lib.sh"
bin=$(realpath "${1:-build/itsm-bridge}")
plugins=$(realpath "${2:-build/plugins}")
rows=${ROWS:-300000}
rounds=${ROUNDS:-3}
[ -x "$bin" ] || { echo "no $bin: build first (cmake --build build)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/config/sample/generate.py" --rows "$rows" --out-dir "$work"
{ echo "store = { path = \"$work/bench.db\"; };"
  export_source "$work/tickets.csv"; } >"$work/bench.cfg"

# Wall seconds of one sync; its summary line goes to $work/last.out.
timed_sync() {
  local t0 t1
  quiesce_disk
  t0=$(date +%s.%N)
  "$bin" -c "$work/bench.cfg" --plugin-dir "$plugins" sync >"$work/last.out"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

firsts=() seconds=()
printf '%-6s %10s %10s %8s  %s\n' round first_s second_s ratio "second sync summary"
for ((r = 1; r <= rounds; r++)); do
  rm -f "$work/bench.db" "$work/bench.db-wal" "$work/bench.db-shm" "$work/bench.db.lock"
  f=$(timed_sync)
  s=$(timed_sync)
  grep -q " 0 new, 0 changed, " "$work/last.out" ||
    { echo "the second sync was not all unchanged: $(cat "$work/last.out")" >&2; exit 1; }
  firsts+=("$f") seconds+=("$s")
  printf '%-6d %10.3f %10.3f %8.3f  %s\n' "$r" "$f" "$s" \
    "$(awk -v a="$f" -v b="$s" 'BEGIN { print b / a }')" "$(head -n 1 "$work/last.out")"
done
mf=$(printf '%s\n' "${firsts[@]}" | median)
ms=$(printf '%s\n' "${seconds[@]}" | median)
awk -v n="$rows" -v f="$mf" -v s="$ms" 'BEGIN {
  printf "median over the rounds, %d rows: first sync %.3f s, unchanged re-sync %.3f s, ratio %.3f (goal <= 0.3)\n",
    n, f, s, s / f }'
