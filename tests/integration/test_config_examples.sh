#!/usr/bin/env bash
# The configurations shipped for users validate against the real plugins,
# and `plugins --describe` documents every option, the host's included.
set -euo pipefail
cd "$IB_SOURCE_DIR"
passed=0
for cfg in config/sample/bridge.cfg config/examples/providers.cfg; do
  out=$("$IB_BIN" -c "$cfg" --plugin-dir "$IB_PLUGIN_DIR" check-config)
  echo "$out"
  case $out in *": OK: "*) passed=$((passed + 1)) ;; *) echo "FAIL: $cfg"; exit 1 ;; esac
done
for plugin in csv jira servicenow glpi; do
  doc=$("$IB_BIN" --plugin-dir "$IB_PLUGIN_DIR" plugins --describe "$plugin")
  # Every option line is followed by a description line (indented past the
  # name column), so no option is left undocumented.
  undocumented=$(printf '%s\n' "$doc" | awk '
    /^  [a-z_.]+ / { if (pending) print pending; pending = $1; next }
    /^                    +[^ ]/ { pending = ""; next }
    END { if (pending) print pending }')
  if [ -n "$undocumented" ]; then
    echo "FAIL: $plugin options without a description: $undocumented"; exit 1
  fi
  passed=$((passed + 1))
done
echo "$passed passed, 0 failed"
