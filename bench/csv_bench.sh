#!/bin/bash
# csv_bench.sh -- measures the csv plugin end to end: generates 100,000- and
# 1,000,000-row Excel-style exports, syncs each into a fresh store, and
# prints rows/s, peak RSS and the time the sqlite3 shell takes to .import
# the same file. Prints figures only; asserts nothing about speed.
#
#   bench/csv_bench.sh [BIN] [PLUGIN_DIR]     (run from the repository root)
#   defaults: build/itsm-bridge build/plugins; SIZES="100000 1000000" to change
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-build/itsm-bridge}")
plugins=$(realpath "${2:-build/plugins}")
sizes=${SIZES:-"100000 1000000"}
[ -x "$bin" ] || { echo "no $bin: build first (cmake --build build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# seconds.fraction of a command's wall time, and its peak RSS in KiB
measure() { # measure LOG -- command...
  local log=$1; shift 2
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>>"$log.err" || {
    cat "$log.err" >&2; return 1; }
}
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":");
  s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
rss_kib() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }

printf '%-10s %10s %12s %12s %10s %12s %10s\n' rows file_MiB sync_s rows_per_s \
  rss_MiB import_s ratio
declare -A rss
for n in $sizes; do
  dir="$work/$n"
  mkdir -p "$dir"
  /usr/bin/python3 "$root/config/sample/generate.py" --rows "$n" --out-dir "$dir"
  cat >"$dir/bench.cfg" <<EOF
store = { path = "$dir/bench.db"; };
timezone = "Europe/Paris";
sources = (
  { name = "bench"; plugin = "csv"; path = "$dir/tickets.csv";
    delimiter = ";"; timezone = "Europe/Paris"; date_format = "%d/%m/%Y %H:%M";
    columns = { id = "N° ticket"; title = "Objet"; kind = "Type"; priority = "Priorité";
                status = "Statut"; service = "Service"; group = "Groupe";
                created = "Ouvert le"; first_response = "Pris en charge le";
                resolved = "Résolu le"; closed = "Clos le";
                pause_start = "En attente le"; pause_end = "Reprise le";
                updated = "Mis à jour le"; };
    priorities = ( ("Critique", "P1"), ("Haute", "P2"), ("Moyenne", "P3"), ("Basse", "P4") );
    statuses = ( ("Nouveau", "new"), ("En cours", "open"), ("En attente", "pending"),
                 ("Résolu", "resolved"), ("Clos", "closed"), ("Annulé", "cancelled") );
    kinds = ( ("Incident", "incident"), ("Demande", "request") ); }
);
EOF
  measure "$dir/sync.time" -- "$bin" -q -c "$dir/bench.cfg" --plugin-dir "$plugins" sync
  stored=$(sqlite3 "$dir/bench.db" "SELECT count(*) FROM tickets")
  [ "$stored" = "$n" ] || { echo "stored $stored of $n rows" >&2; exit 1; }

  # The baseline: the sqlite3 shell loading the same file into one table.
  measure "$dir/import.time" -- sqlite3 "$dir/import.db" ".mode csv" \
    ".separator ;" ".import $dir/tickets.csv raw"

  s=$(wall_s "$dir/sync.time"); i=$(wall_s "$dir/import.time")
  rss[$n]=$(rss_kib "$dir/sync.time")
  awk -v n="$n" -v bytes="$(stat -c %s "$dir/tickets.csv")" -v s="$s" -v i="$i" \
      -v r="${rss[$n]}" 'BEGIN { printf "%-10d %10.1f %12.2f %12.0f %10.1f %12.2f %10.2f\n",
      n, bytes / 1048576, s, (s > 0 ? n / s : 0), r / 1024, i, (i > 0 ? s / i : 0) }'
done
echo "ratio = sync time / sqlite3 .import time (the import parses CSV only:"
echo "no dates, mappings, validation or indexes)"

set -- $sizes
if [ $# -ge 2 ]; then
  first=$1; last=${!#}
  awk -v a="$first" -v b="$last" -v ra="${rss[$first]}" -v rb="${rss[$last]}" \
    'BEGIN { printf "peak RSS: %.1f MiB at %d rows, %.1f MiB at %d rows " \
             "(x%.2f for x%.0f rows)\n", ra / 1024, a, rb / 1024, b, rb / ra, b / a }'
fi
