#!/usr/bin/env bash
# glpi_bench.sh -- figures for the GLPI plugin; prints them, asserts nothing.
# A sync of N tickets (default 5000) from the mock GLPI with 50 ms latency
# per request, twice: without pauses (one request per page of tickets:
# sequential by nature, newest first) and with pauses = "log" (plus one
# Log request per ticket, max_concurrency at a time); wall time against
# the minimum the request pattern allows. Then an incremental sync with
# nothing changed: one page.
# Usage: bench/glpi_bench.sh [BUILD_DIR] [TICKETS]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
tickets=${2:-5000}
latency_ms=50
page_size=200
concurrency=8
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

/usr/bin/python3 "$src/tests/mock/mockserver.py" --port-file "$tmp/port" --app glpi \
  --option generate="$tickets" --option user_token=bench-user-token \
  --latency-ms "$latency_ms" --request-log "$tmp/requests.jsonl" &
pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")

run() { # run NAME PAUSES [sync args...]
  local name=$1 pauses=$2
  shift 2
  cat >"$tmp/bench.cfg" <<CFG
store = { path = "$tmp/bench.db"; };
plugin_dir = "$build/plugins";
sources = ( { name = "glpi-bench"; plugin = "glpi"; timezone = "Europe/Paris";
  url = "http://127.0.0.1:$port/apirest.php"; user_token_env = "GLPI_USER_TOKEN";
  page_size = $page_size; pauses = "$pauses"; max_concurrency = $concurrency; } );
CFG
  local before start end requests
  before=$(wc -l <"$tmp/requests.jsonl" 2>/dev/null || echo 0)
  start=$(date +%s.%N)
  GLPI_USER_TOKEN=bench-user-token "$build/itsm-bridge" -q -c "$tmp/bench.cfg" sync "$@" >/dev/null
  end=$(date +%s.%N)
  requests=$(( $(wc -l <"$tmp/requests.jsonl") - before ))
  pages=$(( (tickets + page_size - 1) / page_size ))
  /usr/bin/python3 -c "
pages, logs = $pages, ($tickets if '$pauses' == 'log' and '$name' != 'incremental' else 0)
wall = $end - $start
floor = (pages + 2 + (logs + $concurrency - 1) // $concurrency) * $latency_ms / 1000.0
if '$name' == 'incremental':
    floor = 3 * $latency_ms / 1000.0
print('== %-12s %d tickets, %d requests, wall %.1f s, minimum %.1f s, ratio %.2f'
      % ('$name', $tickets, $requests, wall, floor, wall / floor))"
}

rm -f "$tmp/bench.db"*
run "no pauses" none --full
rm -f "$tmp/bench.db"*
run "log pauses" log --full
run incremental log
