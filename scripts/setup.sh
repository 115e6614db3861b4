#!/usr/bin/env bash
# Installs, with apt-get from Debian's packages, whatever sptefuzz needs and
# is missing. Idempotent: does nothing when everything is there.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in clang-14 libclang-rt-14-dev llvm-14 cmake ninja-build libabsl-dev libgtest-dev libgmock-dev \
         libbenchmark-dev afl++ python3 python3-yaml zip unzip; do
  have_pkg "$p" || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "INFO: setup: installing ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
