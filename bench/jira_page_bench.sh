#!/usr/bin/env bash
# jira_page_bench.sh -- figures for very large Jira search pages; prints
# them, asserts nothing. Syncs N generated issues served as ONE search page
# (mock page_cap = page_size = N, no latency) and prints the wall time and
# the time per issue: with linear page processing the per-issue time stays
# flat as N grows (the quadratic cJSON_GetArrayItem loops made 20,000
# issues take 85 s and 40,000 never finish).
# Usage: bench/jira_page_bench.sh [BUILD_DIR] [N...]   (default: 5000 20000)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(5000 20000)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export JIRA_USER=bench JIRA_TOKEN=bench-token

printf '%8s %10s %14s\n' issues wall_s us_per_issue
for n in "${sizes[@]}"; do
  rm -f "$tmp/port" "$tmp"/bench.db*
  /usr/bin/python3 "$src/tests/mock/mockserver.py" --port-file "$tmp/port" --app jira \
    --option generate="$n" --option page_cap="$n" --option api=cloud 2>/dev/null &
  pid=$!
  for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  port=$(cat "$tmp/port")
  cat >"$tmp/bench.cfg" <<CFG
store = { path = "$tmp/bench.db"; };
plugin_dir = "$build/plugins";
sources = ( { name = "bench"; plugin = "jira"; url = "http://127.0.0.1:$port"; api = "cloud";
  jql = "project = GEN"; page_size = $n;
  auth = { type = "basic"; user_env = "JIRA_USER"; token_env = "JIRA_TOKEN"; };
  priorities = ( ("Highest", "P1"), ("High", "P2"), ("Medium", "P3"), ("Low", "P4") ); } );
CFG
  t0=$(date +%s.%N)
  "$build/itsm-bridge" -q -c "$tmp/bench.cfg" sync >/dev/null
  t1=$(date +%s.%N)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
  awk -v n="$n" -v a="$t0" -v b="$t1" \
    'BEGIN { printf "%8d %10.2f %14.1f\n", n, b - a, (b - a) * 1e6 / n }'
done
