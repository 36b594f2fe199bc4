#!/usr/bin/env bash
# Installs the Debian packages itsm-bridge needs. Idempotent; run as root
# (or with sudo available).
#   scripts/setup.sh          what building and running needs (the sample job)
#   scripts/setup.sh --test   that, plus what the test suite needs (cmocka,
#                             valgrind, a PostgreSQL server, Chromium for the
#                             report test, Prometheus' promtool, clang for
#                             fuzzing, ...)
set -euo pipefail
build_run=(build-essential cmake pkg-config libcurl4-openssl-dev libcjson-dev
  libconfig-dev libsqlite3-dev libpq-dev tzdata ca-certificates)
test_tools=(libcmocka-dev sqlite3 python3 openssl valgrind clang-format time bc
  prometheus chromium postgresql clang libclang-rt-14-dev python3-yaml)
packages=("${build_run[@]}")
case "${1:-}" in
  --test) packages+=("${test_tools[@]}") ;;
  "") ;;
  *)
    echo "usage: scripts/setup.sh [--test]" >&2
    exit 2
    ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
