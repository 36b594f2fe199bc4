#!/usr/bin/env bash
# Installs the Debian packages itsm-bridge needs to build, test and run.
# Idempotent; run as root (or with sudo available).
set -euo pipefail
packages=(build-essential cmake pkg-config libcurl4-openssl-dev libcjson-dev
  libconfig-dev libsqlite3-dev libpq-dev libcmocka-dev sqlite3 tzdata
  python3 openssl ca-certificates valgrind clang-format time bc
  prometheus chromium postgresql clang libclang-rt-14-dev)
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
