#!/usr/bin/env bash
# The sample job: installs what is needed, builds, syncs the bundled sample
# data (config/sample/: an Excel-style CSV export and an outage list, into
# a SQLite store under var/) and prints October 2026's KPI report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIB_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
cfg=config/sample/bridge.cfg
build/itsm-bridge -c "$cfg" check-config
echo "== sync =="
build/itsm-bridge -c "$cfg" sync
echo
echo "== status =="
build/itsm-bridge -c "$cfg" status || true
echo
echo "== KPIs, October 2026 =="
build/itsm-bridge -c "$cfg" kpi --month 2026-10 --as-of 2026-11-15T00:00:00Z
