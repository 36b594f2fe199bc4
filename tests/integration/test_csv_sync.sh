#!/bin/bash
# test_csv_sync.sh -- syncs config/sample/ (CSV tickets + outages) into a
# fresh store twice, then with --full, and checks that the bad rows are
# reported with their lines, that dates are converted from Europe/Paris,
# and that the later runs change nothing. Must not write outside its temp dir.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The sample config uses paths relative to the repository root.
ln -s "$IB_SOURCE_DIR/config" "$work/config"
cd "$work"
db=var/sample.db
cfg=config/sample/bridge.cfg

fail() { echo "FAIL: $*" >&2; exit 1; }

snapshot() { # everything a sync may change, except run bookkeeping
  sqlite3 "$db" "SELECT * FROM tickets ORDER BY source, id;
                 SELECT * FROM pauses ORDER BY source, ticket_id, start;
                 SELECT * FROM outages ORDER BY source, id;
                 SELECT * FROM sync_state ORDER BY source;"
}

sync() { "$IB_BIN" -c "$cfg" --plugin-dir "$IB_PLUGIN_DIR" sync "$@" 2>&1; }

# --- first sync: everything, with the four bad rows reported ---------------
out1=$(sync) || fail "first sync exited $?: $out1"
echo "$out1"
for expected in "legacy: 400 read, 396 new, 0 changed, 0 unchanged, 4 rejected" \
                "legacy-outages: 19 read, 19 new, 0 changed, 0 unchanged, 0 rejected" \
                "line 43: column \"Ouvert le\": \"31/09/2026 10:12\"" \
                "line 126: column \"Priorité\": \"Urgente\" has no mapping" \
                "line 207: 12 fields where the header has 14" \
                "line 341: the creation date"; do
  grep -qF "$expected" <<<"$out1" || fail "first sync: missing '$expected'"
done

count() { sqlite3 "$db" "$1"; }
[ "$(count "SELECT count(*) FROM tickets WHERE source = 'legacy'")" = 396 ] ||
  fail "expected 396 tickets"
[ "$(count "SELECT count(*) FROM outages")" = 19 ] || fail "expected 19 outages"
# INC000002 opened 03/08/2026 09:04 in Paris (CEST, UTC+2) = 07:04Z.
[ "$(count "SELECT created_at FROM tickets WHERE id = 'INC000002'")" = \
  "$(date -u -d 2026-08-03T07:04:00Z +%s)" ] || fail "INC000002 created_at"
# OUT-0010: 07/10/2026 09:15-11:25 Paris = 07:15Z-09:25Z.
[ "$(count "SELECT start || '-' || end FROM outages WHERE id = 'OUT-0010'")" = \
  "$(date -u -d 2026-10-07T07:15:00Z +%s)-$(date -u -d 2026-10-07T09:25:00Z +%s)" ] ||
  fail "OUT-0010 interval"
[ "$(count "SELECT priority || status || kind FROM tickets WHERE id = 'INC000002'")" = \
  "4closedincident" ] || fail "INC000002 mappings (Basse/Clos/Incident)"
[ "$(count "SELECT count(*) FROM pauses")" -gt 0 ] || fail "no pauses stored"
[ "$(count "SELECT watermark FROM sync_state WHERE source = 'legacy'")" != "" ] ||
  fail "no watermark for legacy"
snap1=$(snapshot)

# --- second sync: incremental, nothing changes ------------------------------
out2=$(sync) || fail "second sync exited $?: $out2"
echo "$out2"
# Rows updated before the watermark (minus the overlap) are skipped; only
# the row whose columns are broken cannot be skipped and is reported again.
! grep -qF "legacy: 400 read" <<<"$out2" || fail "second sync re-read everything"
grep -qF "line 207: 12 fields" <<<"$out2" || fail "second sync: line 207 not reported"
snap2=$(snapshot)
[ "$snap1" = "$snap2" ] || { diff <(echo "$snap1") <(echo "$snap2") | head; fail "second sync changed the store"; }

# --- --full: everything re-read, still nothing changes, nothing deleted -----
out3=$(sync --full) || fail "full sync exited $?: $out3"
echo "$out3"
grep -qF "legacy: 400 read, 0 new, 0 changed, 396 unchanged, 4 rejected" <<<"$out3" ||
  fail "full sync did not re-read everything, or found changes"
snap3=$(snapshot)
[ "$snap1" = "$snap3" ] || { diff <(echo "$snap1") <(echo "$snap3") | head; fail "full sync changed the store"; }

echo "tickets: $(count "SELECT count(*) FROM tickets"), pauses: $(count "SELECT count(*) FROM pauses"), outages: $(count "SELECT count(*) FROM outages")"
echo "PASS"
