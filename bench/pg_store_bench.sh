#!/bin/bash
# pg_store_bench.sh -- the PostgreSQL store against the SQLite store on the
# same sync (issue 13, point 4): generates one Excel-style CSV export of
# ROWS rows (default 100,000; the generator csv_bench.sh uses), starts a
# throwaway PostgreSQL server (tests/support/pg_server.sh: loopback, a temp
# directory, removed at exit), then ROUNDS times (default 3), interleaved
# so that the machine's load hits both alike: a first sync into a fresh
# SQLite store, a first sync into a fresh PostgreSQL database, then an
# unchanged re-sync of each. Prints each round and the medians of the
# per-round ratios PostgreSQL / SQLite (goal: <= 1.5). Neither store
# flushes to disk at each commit here (SQLite WAL synchronous=NORMAL, the
# test server fsync=off). Prints figures only; asserts nothing about speed
# (it fails when a store does not hold every row, or a re-sync is not all
# unchanged).
#
#   bench/pg_store_bench.sh [BIN] [PLUGIN_DIR]  (run from the repository root)
#   defaults: build/itsm-bridge build/plugins; ROWS=100000 ROUNDS=3 to change
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench_lib.sh
source "$root/bench/bench_lib.sh"
bin=$(realpath "${1:-build/itsm-bridge}")
plugins=$(realpath "${2:-build/plugins}")
rows=${ROWS:-100000}
rounds=${ROUNDS:-3}
[ -x "$bin" ] || { echo "no $bin: build first (cmake --build build)" >&2; exit 2; }

# shellcheck source=../tests/support/pg_server.sh
source "$root/tests/support/pg_server.sh"
work=$(mktemp -d)
cleanup() {
  pg_server_stop
  rm -rf "$work"
}
trap cleanup EXIT
pg_server_start || { echo "could not start a throwaway PostgreSQL server" >&2; exit 1; }
export PGPASSFILE="$work/no-pgpass" PGPASSWORD=$PG_TEST_PASSWORD
psql_q() { "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 "$@"; }

/usr/bin/python3 "$root/config/sample/generate.py" --rows "$rows" --out-dir "$work"
# The source of csv_bench.sh without "updated" (as resync_bench.sh): the
# plugin cannot skip rows behind the watermark, a re-sync compares them all.
source_cfg() { export_source "$work/tickets.csv"; }
{ echo "store = { path = \"$work/bench.db\"; };"; source_cfg; } >"$work/sq.cfg"
{ echo "store = { url = \"postgresql://$PGUSER@127.0.0.1:$PGPORT/bench\"; };"; source_cfg; } >"$work/pg.cfg"

# Wall seconds of one sync of $1 (sq or pg); its summary goes to $work/$1.out.
timed_sync() {
  local t0 t1
  quiesce_disk
  t0=$(date +%s.%N)
  "$bin" -c "$work/$1.cfg" --plugin-dir "$plugins" sync >"$work/$1.out" ||
    { echo "$1 sync failed: $(cat "$work/$1.out")" >&2; return 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
expect() { # $1: sq or pg, $2: the summary's counts
  grep -qF "bench: $rows read, $2" "$work/$1.out" ||
    { echo "$1: expected '$rows read, $2': $(cat "$work/$1.out")" >&2; exit 1; }
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b / a }'; }

first_ratios=() again_ratios=()
printf '%-6s %10s %10s %8s %10s %10s %8s\n' round sq_first pg_first ratio \
  sq_again pg_again ratio
for ((r = 1; r <= rounds; r++)); do
  rm -f "$work"/bench.db "$work"/bench.db-wal "$work"/bench.db-shm "$work"/bench.db.lock
  psql_q -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench" >/dev/null 2>&1
  sf=$(timed_sync sq)
  expect sq "$rows new, 0 changed, 0 unchanged"
  pf=$(timed_sync pg)
  expect pg "$rows new, 0 changed, 0 unchanged"
  sa=$(timed_sync sq)
  expect sq "0 new, 0 changed, $rows unchanged"
  pa=$(timed_sync pg)
  expect pg "0 new, 0 changed, $rows unchanged"
  stored=$(psql_q -d bench -c "SELECT count(*) FROM itsm_bridge_store.tickets")
  [ "$stored" = "$rows" ] || { echo "PostgreSQL holds $stored of $rows rows" >&2; exit 1; }
  first_ratios+=("$(ratio "$sf" "$pf")") again_ratios+=("$(ratio "$sa" "$pa")")
  printf '%-6d %10.3f %10.3f %8.3f %10.3f %10.3f %8.3f\n' "$r" "$sf" "$pf" \
    "${first_ratios[-1]}" "$sa" "$pa" "${again_ratios[-1]}"
done
mf=$(printf '%s\n' "${first_ratios[@]}" | median)
ma=$(printf '%s\n' "${again_ratios[@]}" | median)
echo "median of the per-round ratios PostgreSQL / SQLite, $rows rows:" \
  "first sync $mf (goal <= 1.5), unchanged re-sync $ma"
