#!/usr/bin/env bash
# Runs every unit test and fuzz driver of a (non-sanitizer) build under
# valgrind's memcheck: any memory error or definite leak fails.
#   scripts/valgrind.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export TZDIR=/usr/share/zoneinfo FUZZ_RUNS=300 IB_KEEP_PLUGINS=1
failed=0 passed=0
for t in "$build"/tests/test_* "$build"/tests/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  args=()
  runs=300
  case $name in fuzz_*) args=(tests/fuzz/corpus/"${name#fuzz_}"/*) ;; esac
  # The plugin targets run a whole sync + store + KPI per input.
  case $name in fuzz_csv_plugin | fuzz_jira_* | fuzz_sn_*) runs=40 ;; esac
  if FUZZ_RUNS=$runs valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
       --error-exitcode=99 --suppressions=tests/valgrind.supp \
       "$t" "${args[@]}" >"$build/valgrind-$name.log" 2>&1; then
    passed=$((passed + 1)); echo "valgrind ok   $name"
  else
    failed=$((failed + 1)); echo "valgrind FAIL $name (see $build/valgrind-$name.log)"
    tail -30 "$build/valgrind-$name.log"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
