#!/usr/bin/env bash
# jira_bench.sh -- figures for the Jira plugin; prints them, asserts nothing.
#  1. normalisation throughput over generated search pages (MB/s, issues/s),
#     as a ratio to cJSON parsing the same pages alone (goal >= 0.5);
#  2. a sync of N issues (default 20000) from the mock with 50 ms latency
#     per request: wall time against the sequential minimum (pages x latency).
# Usage: bench/jira_bench.sh [BUILD_DIR] [ISSUES]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
issues=${2:-20000}
latency_ms=50
page_size=100
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# ---- 1. normalisation vs parsing -------------------------------------------
/usr/bin/python3 - "$src" "$tmp/pages.json" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1] + "/tests/mock/apps")
import jira
issues = jira.generated_issues(5000)
pages = [{"isLast": False, "issues": issues[i:i + 100]} for i in range(0, len(issues), 100)]
with open(sys.argv[2], "w") as f:
    for p in pages:
        f.write(json.dumps(p) + "\n")
EOF
cat >"$tmp/bench_norm.c" <<'EOF'
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "jira_norm.c"
#include "tz.h"
static const char *map(ib_source *s, const char *opt, const char *raw) {
  (void)s;
  if (strcmp(opt, "priorities") != 0) return NULL;
  static const char *const from[] = {"Highest", "High", "Medium", "Low"};
  static const char *const to[] = {"P1", "P2", "P3", "P4"};
  for (int i = 0; i < 4; i++) if (strcasecmp(raw, from[i]) == 0) return to[i];
  return NULL;
}
static ib_status parse_time(ib_source *s, const char *t, const char *f, ib_time *o) {
  (void)s; (void)f;
  return ib_parse_iso8601(t, "UTC", o) == 0 ? IB_OK : IB_ERR_PARSE;
}
static double now(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "r");
  char *line = NULL; size_t cap = 0; ssize_t n;
  char **pages = NULL; size_t np = 0, bytes = 0, nissues = 0;
  while ((n = getline(&line, &cap, f)) > 0) {
    pages = realloc(pages, (np + 1) * sizeof *pages);
    pages[np++] = strdup(line); bytes += (size_t)n;
  }
  free(line); fclose(f);
  ib_host_services h; memset(&h, 0, sizeof h);
  h.struct_size = sizeof h; h.map = map; h.parse_time = parse_time;
  static const char *const pause[] = {"Waiting for customer"};
  jira_norm_cfg cfg = {.host = &h, .pause_statuses = pause, .n_pause_statuses = 1};
  jira_norm scratch = {0};
  int rounds = 5;
  double t0 = now();
  for (int r = 0; r < rounds; r++)
    for (size_t i = 0; i < np; i++) cJSON_Delete(cJSON_Parse(pages[i]));
  double parse_s = now() - t0;
  t0 = now();
  for (int r = 0; r < rounds; r++)
    for (size_t i = 0; i < np; i++) {
      cJSON *root = cJSON_Parse(pages[i]);
      const cJSON *is;
      cJSON_ArrayForEach(is, cJSON_GetObjectItem(root, "issues")) {
        ib_ticket t;
        if (jira_normalize(&cfg, &scratch, is, NULL, &t) != IB_OK) return 1;
        nissues++;
      }
      cJSON_Delete(root);
    }
  double norm_s = now() - t0;
  double mb = rounds * bytes / 1e6;
  printf("parse only:        %8.1f MB/s\n", mb / parse_s);
  printf("parse + normalise: %8.1f MB/s, %9.0f issues/s\n", mb / norm_s, nissues / norm_s);
  printf("ratio (goal >= 0.5): %.2f\n", parse_s / norm_s);
  jira_norm_free(&scratch);
  for (size_t i = 0; i < np; i++) free(pages[i]);
  free(pages);
  return 0;
}
EOF
cc -std=c11 -O2 -I"$src/include" -I"$src/bridge" -I"$src/plugins/jira" \
  "$tmp/bench_norm.c" "$src/bridge/core/tz.c" -I"$src/bridge/core" -lcjson -o "$tmp/bench_norm"
echo "== normalisation (5000 generated issues, 50 pages, 5 rounds)"
"$tmp/bench_norm" "$tmp/pages.json"

# ---- 2. sync from the mock with latency ------------------------------------
/usr/bin/python3 "$src/tests/mock/mockserver.py" --port-file "$tmp/port" --app jira \
  --option generate="$issues" --option page_cap="$page_size" \
  --latency-ms "$latency_ms" --request-log "$tmp/requests.jsonl" &
pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
cat >"$tmp/bench.cfg" <<EOF
store = { path = "$tmp/bench.db"; };
plugin_dir = "$build/plugins";
sources = ( { name = "jira-bench"; plugin = "jira"; url = "http://127.0.0.1:$(cat "$tmp/port")";
  api = "datacenter"; page_size = $page_size;
  auth = { type = "basic"; user_env = "JIRA_USER"; token_env = "JIRA_TOKEN"; };
  priorities = ( ("Highest", "P1"), ("High", "P2"), ("Medium", "P3"), ("Low", "P4") ); } );
EOF
for api in datacenter cloud; do
  sed -i "s/api = \"[a-z]*\"/api = \"$api\"/" "$tmp/bench.cfg"
  rm -f "$tmp/bench.db"*
  before=$(wc -l <"$tmp/requests.jsonl" 2>/dev/null || echo 0)
  start=$(date +%s.%N)
  JIRA_USER=bench JIRA_TOKEN=bench "$build/itsm-bridge" -q -c "$tmp/bench.cfg" sync >/dev/null
  end=$(date +%s.%N)
  requests=$(( $(wc -l <"$tmp/requests.jsonl") - before ))
  pages=$(( (issues + page_size - 1) / page_size ))
  /usr/bin/python3 -c "
wall = $end - $start; floor = $pages * $latency_ms / 1000.0
print('== sync $api: %d issues, %d requests, wall %.1f s, sequential minimum %d pages x ${latency_ms} ms = %.1f s, ratio %.2f'
      % ($issues, $requests, wall, $pages, floor, wall / floor))"
done
