#!/bin/bash
# test_plugin_trust.sh -- the commands that load plugins (plugins,
# check-config, sync) refuse a plugin folder others can write, and a
# relative plugin_dir in the configuration is read beside the configuration
# file, whatever the working folder. Must not write outside its temp dir.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}"
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/etc/plugins" "$work/elsewhere"
cp "$IB_PLUGIN_DIR/csv.so" "$work/etc/plugins/"
chmod 755 "$work/etc/plugins"
chmod 644 "$work/etc/plugins/csv.so"
printf 'id;created\n1;2026-10-01T10:00:00Z\n' >"$work/t.csv"
cat >"$work/etc/bridge.cfg" <<CFG
store = { path = "$work/store.db"; };
plugin_dir = "plugins";
sources = ( { name = "s"; plugin = "csv"; path = "$work/t.csv";
              columns = { id = "id"; created = "created"; }; } );
CFG

# Relative plugin_dir: resolved against $work/etc, not the working folder.
cd "$work/elsewhere"
out=$("$IB_BIN" -c "$work/etc/bridge.cfg" check-config 2>&1) ||
  fail "check-config with a relative plugin_dir exited $?: $out"
out=$("$IB_BIN" -c "$work/etc/bridge.cfg" plugins 2>&1) ||
  fail "plugins exited $?: $out"
grep -qF "Plugins in $work/etc/plugins" <<<"$out" || fail "plugins: $out"

# A world-writable plugin folder: every loading command refuses it.
chmod 777 "$work/etc/plugins"
want="plugin folder $work/etc/plugins is writable by group/others: chmod go-w $work/etc/plugins, or use another folder"
for cmd in check-config plugins sync; do
  set +e
  out=$("$IB_BIN" -c "$work/etc/bridge.cfg" $cmd 2>&1)
  rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "$cmd accepted a world-writable plugin folder: $out"
  grep -qF "$want" <<<"$out" || fail "$cmd: message missing: $out"
done
[ ! -e "$work/store.db" ] || [ "$(sqlite3 "$work/store.db" 'SELECT count(*) FROM tickets')" = 0 ] ||
  fail "sync stored tickets through a refused plugin"
chmod 755 "$work/etc/plugins"

# A symlinked plugin folder given on the command line is refused.
ln -s "$work/etc/plugins" "$work/link"
set +e
out=$("$IB_BIN" -c "$work/etc/bridge.cfg" --plugin-dir "$work/link" plugins 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "plugins accepted a symlinked folder: $out"
grep -qF "plugin folder $work/link is a symbolic link" <<<"$out" || fail "symlink: $out"
echo "OK"
