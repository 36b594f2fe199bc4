#!/bin/bash
# test_kpi_reference.sh -- the C KPI engine against the independent Python
# reference (tests/reference/kpi_ref.py) on random stores: every figure of
# `kpi --format json` must agree (durations within 1 s). Needs IB_BIN and
# IB_SOURCE_DIR (set by ctest); writes only to a temporary directory.
set -euo pipefail
: "${IB_BIN:?set IB_BIN to the itsm-bridge binary}"
: "${IB_SOURCE_DIR:?set IB_SOURCE_DIR to the source tree}"
export TZDIR=/usr/share/zoneinfo
ref="$IB_SOURCE_DIR/tests/reference"
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail=0
for seed in 1 2 3; do
  dir="$work/seed$seed"
  mkdir -p "$dir"
  "$py" "$ref/kpi_gen.py" config --dir "$dir"
  # Let itsm-bridge create the store with its own schema, then fill it.
  "$IB_BIN" -c "$dir/kpi.cfg" kpi --month 2026-10 --as-of 2026-11-10T00:00:00Z \
    --format json >/dev/null
  "$py" "$ref/kpi_gen.py" data --store "$dir/store.db" --seed "$seed"
  # Mid-month (availability over the month so far), before the month (no
  # service time: availability null) and after it.
  for as_of in 2026-09-25T00:00:00Z 2026-10-20T12:00:00Z 2026-11-10T00:00:00Z; do
    "$IB_BIN" -c "$dir/kpi.cfg" kpi --month 2026-10 --as-of "$as_of" \
      --format json >"$dir/c.json" 2>"$dir/c.err"
    "$py" "$ref/kpi_ref.py" --store "$dir/store.db" --spec "$dir/spec.json" \
      --from 2026-09-30T22:00:00Z --to 2026-10-31T23:00:00Z --as-of "$as_of" \
      >"$dir/ref.json"
    echo "seed $seed, as of $as_of:"
    if ! "$py" "$ref/kpi_compare.py" "$dir/c.json" "$dir/ref.json"; then
      fail=1
    fi
  done
  # The reversed intervals in the data give warnings, one line per ticket.
  if [ -s "$dir/c.err" ]; then
    lines=$(wc -l <"$dir/c.err")
    uniq_lines=$(sort -u "$dir/c.err" | wc -l)
    if [ "$lines" != "$uniq_lines" ] || grep -qv '^warning: ticket ' "$dir/c.err"; then
      echo "unexpected stderr:"; cat "$dir/c.err"; fail=1
    fi
  fi
done
exit $fail
