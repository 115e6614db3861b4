#!/usr/bin/env bash
# Usage: scripts/oss-fuzz/test_build.sh WORKDIR
#
# The ctest of scripts/oss-fuzz/build.sh (label ossfuzz): runs it as OSS-Fuzz
# would, with clang-14 and LIB_FUZZING_ENGINE=-fsanitize=fuzzer, into a fresh
# temporary $OUT ($WORK stays in WORKDIR so that reruns are incremental),
# checks that every target has its binary, .dict, .options and seed corpus,
# then runs each target over its unzipped seed corpus (-runs=0) and for a few
# hundred mutations with its dictionary and options.
# Environment: SPTEFUZZ_OSSFUZZ_SANITIZER=address|undefined adds that
# sanitizer to the flags (as OSS-Fuzz would), default none;
# SPTEFUZZ_OSSFUZZ_ENGINE=afl builds with afl-clang-fast[++] and AFL++'s
# libAFLDriver.a instead (then each seed is run once through the target).
set -euo pipefail
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; "") usage >&2; exit 2 ;; esac
[ $# -eq 1 ] || { usage >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
workdir="$1"
mkdir -p "$workdir/src"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=fuzzer-no-link"
case "${SPTEFUZZ_OSSFUZZ_SANITIZER:-}" in
  "") san=none ;;
  address) san=address; flags+=" -fsanitize=address -fsanitize-address-use-after-scope" ;;
  undefined) san=undefined; flags+=" -fsanitize=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr -fno-sanitize-recover=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr" ;;
  *) echo "FAIL: SPTEFUZZ_OSSFUZZ_SANITIZER='${SPTEFUZZ_OSSFUZZ_SANITIZER}': expected address or undefined" >&2; exit 2 ;;
esac
engine="${SPTEFUZZ_OSSFUZZ_ENGINE:-libfuzzer}"
case "$engine" in
  libfuzzer) export CC=clang-14 CXX=clang++-14 LIB_FUZZING_ENGINE=-fsanitize=fuzzer ;;
  afl) flags="${flags/ -fsanitize=fuzzer-no-link/}"
       export CC=afl-clang-fast CXX=afl-clang-fast++ LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a AFL_QUIET=1 ;;
  *) echo "FAIL: SPTEFUZZ_OSSFUZZ_ENGINE='$engine': expected libfuzzer or afl" >&2; exit 2 ;;
esac
export CFLAGS="$flags" CXXFLAGS="$flags"
wdir="$workdir/work"
[ "$engine-$san" = libfuzzer-none ] || wdir="$workdir/work-$engine-$san"
export SRC="$workdir/src" WORK="$wdir" OUT="$out" SANITIZER="$san" FUZZING_ENGINE="$engine"
export SPTEFUZZ_BUILD_JOBS="${SPTEFUZZ_BUILD_JOBS:-1}"
if ! "$here/build.sh" >"$workdir/build.log" 2>&1; then
  tail -n 40 "$workdir/build.log"
  echo "FAIL: build.sh failed (log: $workdir/build.log)"
  exit 1
fi
grep '^INFO' "$workdir/build.log"
# Bad usage exits 2.
set +e; "$here/build.sh" --bogus >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || { echo "FAIL: build.sh --bogus exited $rc, expected 2"; exit 1; }
status=0
for t in sptefuzz_fuzzer repro_parser_fuzzer; do
  for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
    [ -s "$out/$f" ] || { echo "FAIL: \$OUT/$f is missing or empty"; status=1; }
  done
  [ -x "$out/$t" ] || { echo "FAIL: \$OUT/$t is not executable"; status=1; continue; }
  grep -q '^\[libfuzzer\]' "$out/$t.options" || { echo "FAIL: $t.options has no [libfuzzer] section"; status=1; }
  max_len="$(sed -n 's/^max_len *= *//p' "$out/$t.options")"
  seeds="$(mktemp -d -p "$out")"
  unzip -q "$out/${t}_seed_corpus.zip" -d "$seeds"
  n="$(ls "$seeds" | wc -l)"
  if [ "$engine" = afl ]; then
    for f in "$seeds"/*; do
      SPTEFUZZ_RULES= "$out/$t" "$f" >"$out/$t.afl.log" 2>&1 || { tail -n 20 "$out/$t.afl.log"; echo "FAIL: $t on $f"; status=1; }
    done
    echo "PASS: $t (AFL++ driver): $n seeds clean"
    continue
  fi
  # Every seed runs clean under the default preset.
  if ! SPTEFUZZ_RULES= "$out/$t" -runs=0 "$seeds" >"$out/$t.runs0.log" 2>&1; then
    tail -n 20 "$out/$t.runs0.log"; echo "FAIL: $t on its $n seeds"; status=1; continue
  fi
  # A few hundred mutations with the dictionary and the options' max_len.
  work="$(mktemp -d -p "$out")"
  cp "$seeds"/* "$work/"
  if ! SPTEFUZZ_RULES= "$out/$t" -runs=300 -seed=1 -dict="$out/$t.dict" -max_len="$max_len" \
       -artifact_prefix="$out/$t-" "$work" >"$out/$t.runs.log" 2>&1; then
    tail -n 20 "$out/$t.runs.log"; echo "FAIL: $t, 300 runs"; status=1; continue
  fi
  grep -q "Dictionary: [1-9][0-9]* entries" "$out/$t.runs.log" || { echo "FAIL: $t did not load its dictionary"; status=1; }
  echo "PASS: $t: $n seeds clean, 300 runs with $(grep -o 'Dictionary: [0-9]* entries' "$out/$t.runs.log")"
done
[ "$status" -eq 0 ] && echo "PASS"
exit "$status"
