#!/usr/bin/env bash
# Usage: scripts/build.sh [preset]   (debug, release, asan-ubsan, tsan, libfuzzer, libfuzzer-asan)
# Configures and builds one CMake preset into build/<preset>.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
case "$preset" in
  debug|release|asan-ubsan|tsan|libfuzzer|libfuzzer-asan) ;;
  *) echo "ERROR: build.sh: unknown preset '$preset': expected debug, release, asan-ubsan, tsan, libfuzzer or libfuzzer-asan" >&2; exit 2 ;;
esac
scripts/setup.sh
jobs="${SPTEFUZZ_BUILD_JOBS:-$(nproc)}"
cmake --preset "$preset" >/dev/null
cmake --build "build/$preset" -j "$jobs"
