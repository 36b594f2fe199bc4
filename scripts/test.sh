#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (ctest: cmocka unit tests
# and loopback integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIB_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2 --timeout 600
