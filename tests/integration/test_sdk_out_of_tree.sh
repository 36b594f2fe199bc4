#!/usr/bin/env bash
# Installs the SDK with `cmake --install`, builds examples/hello_plugin and
# the GLPI plugin (a real source: HTTP, session login, JSON through cJSON)
# out of tree with nothing but pkg-config and -Wl,-z,defs (every symbol a
# plugin uses must come from a library it declares: no hidden dependency on
# what the host happens to load), checks they export only the entry, and
# syncs with hello through the installed binary.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$IB_BINARY_DIR" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -1)
export PKG_CONFIG_PATH="$libdir"
test -f "$tmp/prefix/include/itsm_bridge/plugin.h" || { echo "FAIL: header not installed"; exit 1; }
cflags=$(pkg-config --cflags itsm-bridge-plugin)
libs=$(pkg-config --libs itsm-bridge-plugin)
plugindir=$(pkg-config --variable=plugindir itsm-bridge-plugin)
test -f "$plugindir/csv.so" || { echo "FAIL: plugins not installed in $plugindir"; exit 1; }
mkdir "$tmp/plugins"
cc -std=c11 -Wall -Wextra -Werror -shared $cflags -Wl,-z,defs \
  -o "$tmp/plugins/hello.so" "$IB_SOURCE_DIR/examples/hello_plugin/hello.c" $libs
cc -std=c11 -Wall -Wextra -Werror -shared $cflags -Wl,-z,defs \
  -o "$tmp/plugins/glpi.so" "$IB_SOURCE_DIR"/plugins/glpi/*.c $libs
for so in hello glpi; do
  exported=$(nm -D --defined-only "$tmp/plugins/$so.so" | awk '$2 == "T" {print $3}')
  [ "$exported" = "ib_plugin_entry" ] || { echo "FAIL: $so exports: $exported"; exit 1; }
done
# the JSON reader is declared, not borrowed from the host
needed=$(readelf -d "$tmp/plugins/glpi.so")
case $needed in *libcjson*) ;; *) echo "FAIL: glpi.so does not link cJSON"; exit 1 ;; esac
for so in "$plugindir"/*.so; do
  e=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')
  [ "$e" = "ib_plugin_entry" ] || { echo "FAIL: $so exports: $e"; exit 1; }
done
cat > "$tmp/bridge.cfg" <<CFG
store = { path = "$tmp/store.db"; };
plugin_dir = "$tmp/plugins";
sources = ( { name = "greetings"; plugin = "hello"; count = 5; start = "2026-10-01T09:00:00Z"; } );
CFG
bin="$tmp/prefix/bin/itsm-bridge"
# Installed under any prefix, the binary finds its own plugins.
(mkdir "$tmp/elsewhere" && cd "$tmp/elsewhere" && env -u ITSM_BRIDGE_PLUGIN_DIR "$bin" plugins) | grep -q "^csv " ||
  { echo "FAIL: the installed binary does not find its plugins under $tmp/prefix"; exit 1; }
listed=$("$bin" -c "$tmp/bridge.cfg" plugins)
grep -q "^hello .*1.0.0 .*1 " <<<"$listed" || { echo "FAIL: not listed"; exit 1; }
grep -q "^glpi .*0.1.0 .*1 " <<<"$listed" || { echo "FAIL: out-of-tree glpi not listed"; exit 1; }
out=$("$bin" -c "$tmp/bridge.cfg" sync)
echo "$out"
echo "$out" | grep -q "greetings: 5 read, 5 new, 0 changed, 0 unchanged, 0 rejected" || { echo "FAIL: sync"; exit 1; }
n=$(sqlite3 "$tmp/store.db" "select count(*) from tickets where source='greetings' and priority=3")
[ "$n" = 5 ] || { echo "FAIL: $n tickets stored"; exit 1; }
echo "1 passed, 0 failed"
