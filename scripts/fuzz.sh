#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (build-fuzz/,
# -DIB_FUZZ=ON: coverage + ASan + UBSan) and runs each one in turn for
# SECONDS, with its dictionary (tests/fuzz/dict/NAME.dict), its seeds
# (tests/fuzz/corpus/NAME/, read only) and a writable scratch corpus outside
# the repository. Prints libFuzzer's figures per target as a table, and
# exits non-zero on any crash, leak, UB report, out-of-memory or timeout,
# naming the input that caused it.
#   scripts/fuzz.sh SECONDS [TARGET...]     (TARGET: csv, jira_search, ...)
# Environment: FUZZ_WORK=DIR keeps scratch corpora and crash inputs there
# (default: a new /tmp/itsm-bridge-fuzz.XXXXXX); FUZZ_BUILD=DIR (default
# build-fuzz); FUZZ_SEED=N fixes libFuzzer's random seed (default 0: a new
# one each run). One fuzzer runs at a time (one process, one core).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh SECONDS [TARGET...]" >&2
  exit 2
fi
seconds=$1
shift
build=${FUZZ_BUILD:-build-fuzz}
work=${FUZZ_WORK:-$(mktemp -d /tmp/itsm-bridge-fuzz.XXXXXX)}
mkdir -p "$work"
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIB_FUZZ=ON >/dev/null
cmake --build "$build" -j2 --target fuzz_targets >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
export TZDIR=/usr/share/zoneinfo
# A smaller quarantine: the plugin targets free a whole store per input.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1:quarantine_size_mb=64
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp
rows=() failed=0
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "fuzz: no target fuzz_$t in $build/tests" >&2
    exit 2
  fi
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  log=$work/$t/fuzz.log
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -seed="${FUZZ_SEED:-0}"
    -print_final_stats=1 -artifact_prefix="$work/$t/artifacts/")
  [ -f tests/fuzz/dict/$t.dict ] && args+=(-dict=tests/fuzz/dict/$t.dict)
  echo "== fuzz_$t for ${seconds}s (log: $log)"
  rc=0
  "$bin" "${args[@]}" "$work/$t/corpus" tests/fuzz/corpus/"$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  status=ok
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    status="FAIL($rc)"
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY:|contract broken' "$log" | head -5 || true
    grep -E 'Test unit written to|artifact_prefix' "$log" || true
    ls "$work/$t/artifacts/" | sed "s|^|  crash input: $work/$t/artifacts/|"
  fi
  rows+=("$(printf '%-16s %-9s %12s %8s %7s %7s %6s %7s' "$t" "$status" \
    "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "${corp:--}" "${rss:--}")")
done
echo
printf '%-16s %-9s %12s %8s %7s %7s %6s %7s\n' target status executions 'exec/s' \
  cov ft corpus 'rss MB'
for r in "${rows[@]}"; do echo "$r"; done
echo "scratch corpora and crash inputs: $work"
echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
