#!/usr/bin/env bash
# Usage: scripts/test.sh [--all]
# Sets up if needed, builds, and runs every test through ctest.
# Default (CI): the release build's full test suite, then the asan-ubsan
# and tsan builds' (without the tests labelled "heavy", which build the
# whole project again for OSS-Fuzz or coverage: they ran in the release
# pass). --all adds them there too. The tsan pass runs the model's
# planted-race checks and native mode on real OS threads under TSan.
set -euo pipefail
cd "$(dirname "$0")/.."
all=0
for a in "$@"; do
  case "$a" in
    --all) all=1 ;;
    *) echo "ERROR: test.sh: unknown argument '$a': expected --all" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
presets=(release asan-ubsan tsan)
for p in "${presets[@]}"; do
  echo "INFO: test.sh: preset $p"
  scripts/build.sh "$p"
  exclude=()
  if [ "$all" = 0 ] && [ "$p" != release ]; then exclude=(-LE heavy); fi
  ctest --test-dir "build/$p" --output-on-failure -j "$(nproc)" "${exclude[@]}"
done
