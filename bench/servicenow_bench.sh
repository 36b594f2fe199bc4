#!/bin/bash
# servicenow_bench.sh -- times a full ServiceNow sync (incidents + sys_audit
# + task_sla + outages) from the loopback mock with a fixed latency per
# request, and prints wall time against the sequential minimum (every request
# one after another at that latency) and records/s. Prints figures only; it
# asserts nothing about speed.
#
#   bench/servicenow_bench.sh [BUILD_DIR] [INCIDENTS] [LATENCY_MS] [CONCURRENCY]
#   defaults: build 50000 50 8
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
n=${2:-50000}
latency=${3:-50}
conc=${4:-8}
bin=$build/itsm-bridge
[ -x "$bin" ] || { echo "servicenow_bench: no $bin; build first or pass the build dir" >&2; exit 2; }

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/tests/mock/mockserver.py" --port-file "$tmp/port" \
    --app servicenow --option generate="$n" --option user=bench --option password=bench \
    --latency-ms "$latency" --request-log "$tmp/requests.jsonl" & pid=$!
for _ in $(seq 600); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "servicenow_bench: the mock did not start" >&2; exit 1; }
port=$(cat "$tmp/port")

cat > "$tmp/bridge.cfg" <<CFG
store = { path = "$tmp/bridge.db"; };
plugin_dir = "$build/plugins";
sources = (
  { name = "sn"; plugin = "servicenow"; url = "http://127.0.0.1:$port";
    auth = { type = "basic"; user_env = "SN_USER"; token_env = "SN_PASSWORD"; };
    max_concurrency = $conc; outages = true; task_sla = true; }
);
CFG

start=$(date +%s.%N)
SN_USER=bench SN_PASSWORD=bench "$bin" -q -c "$tmp/bridge.cfg" sync
end=$(date +%s.%N)

/usr/bin/python3 - "$tmp" "$start" "$end" "$latency" "$n" "$conc" <<'PY'
import json, sqlite3, sys
tmp, start, end, latency, n, conc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
reqs = [json.loads(l) for l in open(tmp + "/requests.jsonl") if l.strip()]
by_table = {}
for r in reqs:
    t = r["path"].rsplit("/", 1)[-1]
    by_table[t] = by_table.get(t, 0) + 1
db = sqlite3.connect(tmp + "/bridge.db")
tickets = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
pauses = db.execute("SELECT count(*) FROM pauses").fetchone()[0]
outages = db.execute("SELECT count(*) FROM outages").fetchone()[0]
wall = end - start
seq_min = len(reqs) * latency / 1000.0
print("servicenow sync: %d incidents generated, %d ms latency, max_concurrency %s" % (n, latency, conc))
print("  requests:          %d (%s)" % (len(reqs), ", ".join("%s %d" % kv for kv in sorted(by_table.items()))))
print("  max in flight:     %d" % max(r["in_flight"] for r in reqs))
print("  stored:            %d tickets, %d pauses, %d outages" % (tickets, pauses, outages))
print("  wall time:         %.2f s" % wall)
print("  sequential minimum %.2f s (requests x latency)" % seq_min)
print("  wall / sequential: %.2f" % (wall / seq_min if seq_min else 0))
print("  records/s:         %.0f" % ((tickets + outages) / wall if wall else 0))
PY
