#!/usr/bin/env bash
# test_plugin_template.sh -- a plugin author's first hour: install
# itsm-bridge under a non-default prefix, copy the plugin template with the
# documented one-liner, build it out of tree (-Wl,-z,defs) against the
# installed SDK, and run the template's own test (a sync through the
# installed binary against the installed mock server).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
cmake --install "$IB_BINARY_DIR" --prefix "$tmp/opt" >/dev/null
export PKG_CONFIG_PATH=$(ls -d "$tmp"/opt/lib*/pkgconfig | head -1)
cd "$tmp"
cp -r "$(pkg-config --variable=templatedir itsm-bridge-plugin)" my-source
cd my-source
cmake -S . -B build >/dev/null
cmake --build build 2>&1 | tail -3
exported=$(nm -D --defined-only build/mysource.so | awk '$2 == "T" {print $3}')
[ "$exported" = "ib_plugin_entry" ] || { echo "FAIL: the template exports: $exported"; exit 1; }
ctest --test-dir build --output-on-failure
echo "1 passed, 0 failed"
