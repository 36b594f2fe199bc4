#!/bin/bash
# kpi_scale_bench.sh -- does a month's KPI cost what the month holds (issue
# 13 point 3)? Builds two stores with the same October 2026 (MONTH tickets,
# kpi_bench_gen.py's model: pauses, open tickets, two SLAs on a business
# calendar) and different histories before it: SMALL and BIG tickets in
# all. Times `kpi --month 2026-10` on each, ROUNDS times interleaved (the
# machine is shared and noisy), and prints each round, the median of the
# per-round ratios BIG/SMALL (goal <= 1.3) and the peak RSS of the BIG case
# (/usr/bin/time -v).
#
# With BASE_BIN (an itsm-bridge built from an earlier commit) it also runs
# that binary on the same stores, interleaved (the scale ratio before), and
# times the whole-store case -- a store of WHOLE tickets all in October --
# with both binaries: median ratio new/base (goal: <= 1.0, no slower).
# The earlier binary reads a store of the older schema only: the script
# lowers the stored schema version around its runs (the added indexes do
# not matter to it) and restores it. Prints figures; asserts nothing.
#
# usage: bench/kpi_scale_bench.sh [BIN] [BASE_BIN]   (run from anywhere)
#   defaults: build/itsm-bridge, no base.  Environment: SMALL=100000
#   BIG=2000000 MONTH=30000 WHOLE=300000 ROUNDS=3 BASE_SCHEMA=3
#   (the base binary's schema version), KPI_EXTRA (one more kpi option,
#   e.g. --breaches); KPI_BENCH_KEEP=1 keeps the stores.
# Writes only to a temporary directory (removed at the end).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
bin=$(realpath "${1:-$root/build/itsm-bridge}")
base=${2:-}
[ -n "$base" ] && base=$(realpath "$base")
small=${SMALL:-100000} big=${BIG:-2000000} month=${MONTH:-30000}
whole=${WHOLE:-300000} rounds=${ROUNDS:-3} base_schema=${BASE_SCHEMA:-3}
py=/usr/bin/python3
[ -x "$bin" ] || { echo "kpi_scale_bench: no $bin; build first" >&2; exit 2; }
[ -z "$base" ] || [ -x "$base" ] || { echo "kpi_scale_bench: no $base" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "kpi_scale_bench: needs /usr/bin/time (apt install time)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "kpi_scale_bench: needs the sqlite3 shell" >&2; exit 2; }
((small > month && big > small)) || { echo "kpi_scale_bench: needs MONTH < SMALL < BIG" >&2; exit 2; }
export TZDIR=/usr/share/zoneinfo

work=$(mktemp -d)
[ "${KPI_BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
kpi_args=(kpi --month 2026-10 --as-of 2026-11-10T00:00:00Z --format json)
# KPI_EXTRA=--breaches measures the per-ticket path (exports, listings).
[ -n "${KPI_EXTRA:-}" ] && kpi_args+=("$KPI_EXTRA")

# make_store NAME BACKGROUND OCTOBER: $work/NAME/{bench.cfg,store.db},
# created (schema) by $bin, the background written first, then October.
make_store() {
  local dir=$work/$1
  mkdir -p "$dir"
  "$py" "$here/kpi_bench_gen.py" config --dir "$dir"
  "$bin" -c "$dir/bench.cfg" "${kpi_args[@]}" >/dev/null
  [ "$2" -gt 0 ] && "$py" "$here/kpi_bench_gen.py" background --store "$dir/store.db" --tickets "$2"
  "$py" "$here/kpi_bench_gen.py" data --store "$dir/store.db" --tickets "$3"
  sqlite3 "$dir/store.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  cat "$dir/store.db" >/dev/null # into the page cache: every run reads memory
}

# run BINARY NAME: one kpi run; "seconds kib" into $work/last, the output
# kept to compare binaries.
run() {
  local b=$1 dir=$work/$2 tag
  tag=$([ "$1" = "$bin" ] && echo new || echo base)
  local v
  v=$(sqlite3 "$dir/store.db" 'PRAGMA user_version')
  if [ "$tag" = base ]; then sqlite3 "$dir/store.db" "PRAGMA user_version=$base_schema"; fi
  # Wall time from the shell's clock (GNU time prints hundredths, too
  # coarse for runs of about 0.1 s); the peak RSS from GNU time.
  local t0 t1
  t0=$(date +%s.%N)
  nice -n 10 /usr/bin/time -v "$b" -c "$dir/bench.cfg" "${kpi_args[@]}" \
    >"$dir/kpi-$tag.json" 2>"$dir/time.txt" || { cat "$dir/time.txt" >&2; return 1; }
  t1=$(date +%s.%N)
  if [ "$tag" = base ]; then sqlite3 "$dir/store.db" "PRAGMA user_version=$v"; fi
  awk -F': ' -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f ", b - a }
    /Maximum resident set size/ { print $2 }' "$dir/time.txt" >"$work/last"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "building stores in $work: $small and $big tickets, the same $month in October ..."
t0=$(date +%s)
make_store small $((small - month)) "$month"
make_store big $((big - month)) "$month"
echo "built in $(($(date +%s) - t0)) s"
for s in small big; do
  n=$(sqlite3 "$work/$s/store.db" 'SELECT count(*) FROM tickets')
  echo "  $s: $n tickets, $(sqlite3 "$work/$s/store.db" 'SELECT count(*) FROM pauses') pauses"
done

scale=() scale_base=() rss_big=() rss_small=()
printf '%-6s %9s %9s %7s %9s' round small_s big_s ratio big_MiB
[ -n "$base" ] && printf ' %10s %10s %10s' base_small base_big base_ratio
echo
for ((r = 1; r <= rounds; r++)); do
  run "$bin" small
  read -r ts ks <"$work/last"
  run "$bin" big
  read -r tb kb <"$work/last"
  scale+=("$(ratio "$tb" "$ts")") rss_big+=("$kb") rss_small+=("$ks")
  printf '%-6d %9.3f %9.3f %7.3f %9.1f' "$r" "$ts" "$tb" "${scale[-1]}" \
    "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
  if [ -n "$base" ]; then
    run "$base" small
    read -r os _ <"$work/last"
    run "$base" big
    read -r ob _ <"$work/last"
    scale_base+=("$(ratio "$ob" "$os")")
    printf ' %10.3f %10.3f %10.3f' "$os" "$ob" "${scale_base[-1]}"
  fi
  echo
done
cmp -s "$work/small/kpi-new.json" "$work/big/kpi-new.json" ||
  echo "note: the two stores' October figures differ (they should not)" >&2
if [ -n "$base" ]; then
  cmp -s "$work/big/kpi-new.json" "$work/big/kpi-base.json" ||
    echo "note: the base binary's figures differ from this one's" >&2
fi
printf 'median ratio %d-ticket / %d-ticket store, same %d-ticket October: %.3f (goal <= 1.3)\n' \
  "$big" "$small" "$month" "$(printf '%s\n' "${scale[@]}" | median)"
printf 'peak RSS: %.1f MiB (%d tickets), %.1f MiB (%d tickets)\n' \
  "$(printf '%s\n' "${rss_big[@]}" | median | awk '{ print $1 / 1024 }')" "$big" \
  "$(printf '%s\n' "${rss_small[@]}" | median | awk '{ print $1 / 1024 }')" "$small"
[ -n "$base" ] && printf 'base binary, same stores: median ratio %.3f\n' \
  "$(printf '%s\n' "${scale_base[@]}" | median)"

[ -n "$base" ] || exit 0
rm -rf "$work/small" "$work/big"
echo "whole-store case: $whole tickets, every one in October ..."
make_store whole 0 "$whole"
rel=()
printf '%-6s %9s %9s %7s\n' round new_s base_s ratio
for ((r = 1; r <= rounds; r++)); do
  run "$bin" whole
  read -r tn _ <"$work/last"
  run "$base" whole
  read -r tbs _ <"$work/last"
  rel+=("$(ratio "$tn" "$tbs")")
  printf '%-6d %9.3f %9.3f %7.3f\n' "$r" "$tn" "$tbs" "${rel[-1]}"
done
cmp -s "$work/whole/kpi-new.json" "$work/whole/kpi-base.json" ||
  echo "note: the base binary's figures differ from this one's" >&2
printf 'whole-store case, median ratio new / base: %.3f (goal <= 1.0)\n' \
  "$(printf '%s\n' "${rel[@]}" | median)"
