#!/bin/bash
# kpi_bench.sh -- how fast `kpi --month` is on a 1,000,000-ticket store:
# prints tickets/s and peak memory, and the time sqlite3 alone takes for
# avg(resolved_at - created_at) over the same rows (the floor any
# recomputation must pay), with the ratio. Prints figures; asserts nothing.
#
# usage: bench/kpi_bench.sh [BUILD_DIR] [TICKETS]   (default build-kpi, 1000000)
# Writes only to a temporary directory (KPI_BENCH_KEEP=1 keeps it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${1:-$src/build-kpi}
n=${2:-1000000}
bin=$build/itsm-bridge
py=/usr/bin/python3
[ -x "$bin" ] || { echo "kpi_bench: no $bin; build first (cmake --build $build)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "kpi_bench: needs the sqlite3 shell" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "kpi_bench: needs /usr/bin/time (apt install time)" >&2; exit 2; }
export TZDIR=/usr/share/zoneinfo

work=$(mktemp -d)
[ "${KPI_BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
cfg=$work/bench.cfg
"$py" "$here/kpi_bench_gen.py" config --dir "$work"
"$bin" -c "$cfg" kpi --month 2026-10 --as-of 2026-11-10T00:00:00Z --format json >/dev/null
echo "generating $n tickets into $work/store.db ..."
t0=$(date +%s.%N)
"$py" "$here/kpi_bench_gen.py" data --store "$work/store.db" --tickets "$n"
t1=$(date +%s.%N)
printf 'generated in %.1f s\n' "$(echo "$t1 - $t0" | bc)"
sqlite3 "$work/store.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null

# Warm the page cache once so both timings read from memory.
cat "$work/store.db" >/dev/null

/usr/bin/time -v "$bin" -c "$cfg" kpi --month 2026-10 --as-of 2026-11-10T00:00:00Z \
  --format json >"$work/kpi.json" 2>"$work/time.txt"
kpi_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
  for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$work/time.txt")
kpi_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
rows=$(sqlite3 "$work/store.db" 'SELECT count(*) FROM tickets;')

t0=$(date +%s.%N)
sqlite3 "$work/store.db" 'SELECT avg(resolved_at - created_at) FROM tickets
  WHERE resolved_at IS NOT NULL;' >/dev/null
t1=$(date +%s.%N)
sql_s=$(echo "$t1 - $t0" | bc)

echo "tickets in store:        $rows"
printf 'kpi --month wall time:   %.2f s\n' "$kpi_s"
printf 'kpi throughput:          %.0f tickets/s\n' "$(echo "$rows / $kpi_s" | bc -l)"
printf 'kpi peak memory:         %.1f MiB\n' "$(echo "$kpi_kb / 1024" | bc -l)"
printf 'sqlite3 avg() time:      %.2f s\n' "$sql_s"
printf 'ratio kpi / sqlite3:     %.1f x\n' "$(echo "$kpi_s / $sql_s" | bc -l)"
