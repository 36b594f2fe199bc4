#!/bin/bash
# test_store_period_indexes.sh -- the SQLite store's period indexes
# (tickets_period, tickets_reversed) under the first-sync shortcut: a first
# sync into an empty store loads without them and builds them at its end;
# a store left without them (a first sync killed before its end) still
# answers kpi with the same figures, and the next sync builds them again
# (not any writable open: while a first sync loads, another process would
# wait for the write lock to build them mid-load). A second sync into a non-empty store keeps them throughout.
set -euo pipefail
: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$IB_SOURCE_DIR"
sed "s#var/sample.db#$work/s.db#" config/sample/bridge.cfg >"$work/s.cfg"
run() { "$IB_BIN" -q -c "$work/s.cfg" --plugin-dir "$IB_PLUGIN_DIR" "$@"; }
indexes() { sqlite3 "$work/s.db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('tickets_period', 'tickets_reversed') ORDER BY name)"; }

run sync >/dev/null 2>&1 || true   # the sample has rejected rows: exit 1 is fine
[ "$(indexes)" = "tickets_period tickets_reversed" ] ||
  fail "after a first sync the period indexes exist (got '$(indexes)')"
kpi_before=$(run kpi --month 2026-10 --as-of 2026-11-15T00:00:00Z --format json)

# A first sync killed before its end leaves the store without them.
sqlite3 "$work/s.db" "DROP INDEX tickets_period; DROP INDEX tickets_reversed;"
kpi_without=$(run kpi --month 2026-10 --as-of 2026-11-15T00:00:00Z --format json)
[ "$kpi_before" = "$kpi_without" ] || fail "kpi without the indexes gives other figures"
[ -z "$(indexes)" ] || fail "a read-only kpi must not create indexes"
run status >/dev/null 2>&1 || true
run sync >/dev/null 2>&1 || true
[ "$(indexes)" = "tickets_period tickets_reversed" ] ||
  fail "the next sync builds the period indexes again (got '$(indexes)')"
kpi_after=$(run kpi --month 2026-10 --as-of 2026-11-15T00:00:00Z --format json)
[ "$kpi_before" = "$kpi_after" ] || fail "kpi after the rebuild gives other figures"
echo "PASS"
