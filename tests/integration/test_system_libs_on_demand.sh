#!/bin/bash
# test_system_libs_on_demand.sh -- libcurl and libpq are opened on first
# use (bridge/core/syslib.h), not at every start: the binary does not
# depend on them; a CSV source synced into SQLite runs with both
# unloadable; and when one is needed but cannot be loaded, the command
# fails with one line that names the library and the package to install.
# "Unloadable" is simulated by empty files named libcurl.so.4 and
# libpq.so.5 put first on LD_LIBRARY_PATH. Must not write outside its temp
# dir nor touch the network (the Jira URL is a closed loopback port).
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. Not linked: the dynamic section names neither library.
needed=$(readelf -d "$IB_BIN" | grep NEEDED || true)
grep -q "libcurl" <<<"$needed" && fail "the binary still links libcurl: $needed"
grep -q "libpq" <<<"$needed" && fail "the binary still links libpq: $needed"

mkdir "$work/broken"
: >"$work/broken/libcurl.so.4"
: >"$work/broken/libpq.so.5"
broken() { LD_LIBRARY_PATH="$work/broken${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }

# 2. A CSV source into SQLite needs neither.
ln -s "$IB_SOURCE_DIR/config" "$work/config"
cd "$work"
out=$(broken "$IB_BIN" -c config/sample/bridge.cfg --plugin-dir "$IB_PLUGIN_DIR" \
  sync 2>&1) || fail "CSV sync with both libraries unloadable: $out"
grep -qF "legacy: 400 read, 396 new" <<<"$out" || fail "CSV sync summary: $out"
out=$(broken "$IB_BIN" -c config/sample/bridge.cfg kpi --month 2026-10 2>&1) ||
  fail "kpi with both libraries unloadable: $out"

# 3. A PostgreSQL store: one line naming libpq and its package.
cat >"$work/pg.cfg" <<CFG
store = { url = "postgresql://nobody@127.0.0.1:9/none"; };
sources = ( { name = "csv"; plugin = "csv"; path = "$work/config/sample/tickets.csv"; } );
CFG
rc=0
out=$(broken "$IB_BIN" -c "$work/pg.cfg" --plugin-dir "$IB_PLUGIN_DIR" sync 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "PostgreSQL store with libpq unloadable: exit 0: $out"
grep -qF "cannot load the PostgreSQL client library libpq (libpq.so.5)" <<<"$out" &&
  grep -qF "install the libpq5 package" <<<"$out" ||
  fail "PostgreSQL store with libpq unloadable: unclear message: $out"

# 4. An HTTP source: one line naming libcurl and its package.
cat >"$work/jira.cfg" <<CFG
store = { path = "$work/jira.db"; };
sources = ( { name = "jira"; plugin = "jira"; url = "http://127.0.0.1:9"; api = "cloud";
    jql = "project = X"; auth = { type = "bearer"; token_env = "IB_TEST_TOKEN"; };
    priorities = ( ("High", "P1") ); } );
CFG
rc=0
out=$(IB_TEST_TOKEN=t broken "$IB_BIN" -c "$work/jira.cfg" --plugin-dir "$IB_PLUGIN_DIR" \
  sync 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "Jira source with libcurl unloadable: exit 0: $out"
grep -qF "cannot load the HTTP client library libcurl (libcurl.so.4)" <<<"$out" &&
  grep -qF "install the libcurl4 package" <<<"$out" ||
  fail "Jira source with libcurl unloadable: unclear message: $out"
echo "ok: libcurl and libpq opened on demand, with clear errors"
