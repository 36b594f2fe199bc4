#!/usr/bin/env bash
# test_config_checks.sh -- the configuration is checked completely when it
# is loaded: check-config and sync refuse, with file:line and exit 2, what
# a source would otherwise refuse only at sync time (a mapping to a word
# that is not the model's, a value out of a declared range, a plugin's own
# semantic check), integers libconfig would wrap, and an empty file. A sync
# whose source rejects every record it read exits 1.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
pass() { passes=$((passes + 1)); }

printf 'id,priority,created\nA1,P1,2026-10-01T08:00:00Z\n' >"$tmp/t.csv"

# write NAME SOURCE-BODY: a configuration whose source is on line 5.
write() {
  cat >"$tmp/$1.cfg" <<CFG
store = { path = "$tmp/$1.db"; };
plugin_dir = "$IB_PLUGIN_DIR";
calendars = ( { name = "24x7"; timezone = "UTC"; } );
sources = (
  { $2 }
);
CFG
}

# refused NAME SOURCE-BODY EXPECTED-TEXT: check-config and sync both exit 2
# with "NAME.cfg:5:" and the text; nothing is written to the store.
refused() {
  write "$1" "$2"
  local out rc
  for cmd in check-config sync; do
    rc=0
    out=$("$IB_BIN" -c "$tmp/$1.cfg" "$cmd" 2>&1) || rc=$?
    if [ "$rc" != 2 ]; then
      fail "$1: $cmd exited $rc, not 2: $out"
    elif ! grep -qF "$1.cfg:5:" <<<"$out" || ! grep -qF "$3" <<<"$out"; then
      fail "$1: $cmd message lacks '$1.cfg:5:' or '$3': $out"
    else
      pass
    fi
  done
  [ ! -e "$tmp/$1.db" ] || fail "$1: a refused configuration created the store"
}

csv="name = \"legacy\"; plugin = \"csv\"; path = \"$tmp/t.csv\";"
sn='name = "sn"; plugin = "servicenow"; url = "https://acme.service-now.com";'
jira='name = "jira"; plugin = "jira"; url = "https://acme.atlassian.net"; jql = "project = SUP";'

# A mapping whose target is not a model word (the plugin's own check, and
# the host's model rule for the HTTP plugins).
refused csv-status "$csv statuses = ( (\"Clos\", \"finished\") );" '"finished"'
refused sn-prio "$sn priorities = ( (\"1\", \"high\") );" 'not one of P1, P2, P3, P4, P5'
refused jira-kind "$jira kinds = ( (\"Bug\", \"defect\") );" 'not one of incident'
# A value out of a declared range.
refused csv-commit "$csv commit_every = 0;" 'commit_every = 0 is out of range'
refused sn-page "$sn page_size = 0;" 'page_size = 0 is out of range'
refused jira-page "$jira page_size = -5;" 'page_size = -5 is out of range'
# The plugins' own semantic checks.
refused csv-delim "$csv delimiter = \"ab\";" 'delimiter'
refused sn-table "$sn table = \"inc;drop\";" '"inc;drop" is not a table name'
refused jira-api "$jira api = \"foo\";" 'api: "foo"'
# Integers libconfig would silently wrap (4294967297 -> 1, INT64_MAX -> -1).
refused wrap32 "$sn page_size = 4294967297;" 'the number 4294967297 is out of range'
refused wrap64 "$sn batch_size = 9223372036854775807;" 'out of range'
refused wraphex "$sn page_size = 0x100000001;" 'out of range'

# A large value written as libconfig's 64-bit integer is read as written,
# and then judged by the declared range.
write long "$sn page_size = 4294967297L;"
out=$("$IB_BIN" -c "$tmp/long.cfg" check-config 2>&1) && rc=0 || rc=$?
if [ "$rc" = 2 ] && grep -qF "page_size = 4294967297 is out of range" <<<"$out"; then
  pass
else
  fail "4294967297L: $rc $out"
fi

# An empty configuration is an error, and no ./var is created.
: >"$tmp/empty.cfg"
rc=0
out=$(cd "$tmp" && "$IB_BIN" -c "$tmp/empty.cfg" kpi --month 2026-10 2>&1) || rc=$?
if [ "$rc" = 2 ] && grep -qF "the configuration is empty" <<<"$out" && [ ! -e "$tmp/var" ]; then
  pass
else
  fail "empty configuration: rc $rc: $out"
fi

# A sync whose source rejects every record it read exits 1 and says so.
printf 'id,priority,created\nA1,Urgent,2026-10-01T08:00:00Z\nA2,Urgent,2026-10-02T08:00:00Z\n' \
  >"$tmp/bad.csv"
write allrej "name = \"legacy\"; plugin = \"csv\"; path = \"$tmp/bad.csv\";"
rc=0
out=$("$IB_BIN" -c "$tmp/allrej.cfg" sync 2>&1) || rc=$?
if [ "$rc" = 1 ] && grep -qF "every one of the 2 records read was rejected" <<<"$out"; then
  pass
else
  fail "all rejected: rc $rc: $out"
fi
# ... and a good one next to a bad one is a success.
printf 'A3,P2,2026-10-03T08:00:00Z\n' >>"$tmp/bad.csv"
rc=0
out=$("$IB_BIN" -c "$tmp/allrej.cfg" sync --full 2>&1) || rc=$?
[ "$rc" = 0 ] && pass || fail "one stored, two rejected: rc $rc: $out"

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
