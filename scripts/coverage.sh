#!/usr/bin/env bash
# Usage: scripts/coverage.sh [--corpus DIR]... [--out DIR] [--build-dir DIR] [--rules NAME]
#
# Source-based coverage (clang -fprofile-instr-generate -fcoverage-mapping) of
# the fuzz entry point and the model: builds sptefuzz_fuzzer_driver and the
# sptefuzz tool with coverage in --build-dir, runs every raw input of the
# corpus directories through the driver, and writes with llvm-profdata-14 and
# llvm-cov-14 an HTML report (OUT/html/index.html) and a text summary
# (OUT/summary.txt). It also writes OUT/model-coverage.md: which step labels
# and which spte bit transitions the corpus reached and which it never did,
# from `sptefuzz replay` traces of every input (raw or text repro).
#
#   --corpus DIR     input directory, repeatable (default: corpus/seeds and
#                    corpus/regressions)
#   --out DIR        report directory (default build/coverage/report; must not
#                    hold a previous report unless it is that default)
#   --build-dir DIR  coverage build (default build/coverage)
#   --rules NAME     rules preset for the raw inputs (default: the default preset)
# Environment: SPTEFUZZ_BUILD_JOBS (default: all cores).
# Exit status: 0 report written, 1 a step failed, 2 bad usage.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "ERROR: coverage.sh: $*" >&2; exit 2; }
fail() { echo "ERROR: coverage.sh: $*" >&2; exit 1; }
log() { echo "INFO: coverage.sh: $*"; }

corpora=() out="" bdir="$root/build/coverage" rules=""
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) need_arg "$@"; corpora+=("$2"); shift 2 ;;
    --out) need_arg "$@"; out="$2"; shift 2 ;;
    --build-dir) need_arg "$@"; bdir="$2"; shift 2 ;;
    --rules) need_arg "$@"; rules="$2"; shift 2 ;;
    --*=*) k="${1%%=*}"; v="${1#*=}"; shift; set -- "$k" "$v" "$@" ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ ${#corpora[@]} -gt 0 ] || corpora=("$root/corpus/seeds" "$root/corpus/regressions")
for c in "${corpora[@]}"; do [ -d "$c" ] || die "--corpus '$c': not a directory"; done
if [ -z "$out" ]; then
  out="$root/build/coverage/report"; rm -rf "$out"
elif [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  die "--out '$out' is not empty (a previous report is never overwritten)"
fi
for t in clang-14 clang++-14 llvm-profdata-14 llvm-cov-14 python3 cmake; do
  command -v "$t" >/dev/null || die "$t not found (scripts/setup.sh installs it)"
done
mkdir -p "$out" "$bdir"
out="$(cd "$out" && pwd)" bdir="$(cd "$bdir" && pwd)"

log "building with coverage in $bdir (log: $bdir/coverage-build.log)"
gen=(-G "Unix Makefiles"); command -v ninja >/dev/null && gen=(-G Ninja)
flags="-fprofile-instr-generate -fcoverage-mapping"
{ cmake -S "$root" -B "$bdir" "${gen[@]}" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    -DSPTEFUZZ_TESTS=OFF -DSPTEFUZZ_BENCH=OFF -DSPTEFUZZ_LIBFUZZER_SMOKE=OFF &&
  cmake --build "$bdir" -j "${SPTEFUZZ_BUILD_JOBS:-$(nproc)}" --target sptefuzz_fuzzer_driver sptefuzz; } \
  >"$bdir/coverage-build.log" 2>&1 || { tail -n 30 "$bdir/coverage-build.log" >&2; fail "the coverage build failed"; }
driver="$bdir/fuzz/sptefuzz_fuzzer_driver" tool="$bdir/repro/sptefuzz"

# Raw inputs (not text repros) through the driver; a batch that aborts (a
# finding under a buggy preset) is rerun one input at a time so that the
# profiles of the other inputs are kept.
export SPTEFUZZ_RULES="$rules"
prof="$out/profraw"; mkdir -p "$prof"
mapfile -t raw < <(for c in "${corpora[@]}"; do find "$c" -maxdepth 1 -type f ! -name '*.repro' ! -name '*.md'; done | sort)
mapfile -t all < <(for c in "${corpora[@]}"; do find "$c" -maxdepth 1 -type f ! -name '*.md'; done | sort)
log "${#raw[@]} raw inputs through the driver, ${#all[@]} inputs replayed for the model coverage"
findings=0
for ((i = 0; i < ${#raw[@]}; i += 64)); do
  batch=("${raw[@]:i:64}")
  if ! LLVM_PROFILE_FILE="$prof/b$i-%p.profraw" "$driver" "${batch[@]}" >/dev/null 2>&1; then
    for f in "${batch[@]}"; do
      LLVM_PROFILE_FILE="$prof/f-%p.profraw" "$driver" "$f" >/dev/null 2>&1 || findings=$((findings + 1))
    done
  fi
done
[ "$findings" -eq 0 ] || log "$findings inputs ended in a finding (their coverage up to the abort is lost)"
# The text repros through the tool's replay (it parses and runs them).
mapfile -t texts < <(printf '%s\n' "${all[@]}" | grep '\.repro$' || true)
for ((i = 0; i < ${#texts[@]}; i += 64)); do
  LLVM_PROFILE_FILE="$prof/r$i-%p.profraw" "$tool" replay --quiet "${texts[@]:i:64}" >/dev/null 2>&1 || true
done
shopt -s nullglob
profs=("$prof"/*.profraw)
[ ${#profs[@]} -gt 0 ] || fail "no profile was written"
llvm-profdata-14 merge -sparse "${profs[@]}" -o "$out/sptefuzz.profdata" || fail "llvm-profdata-14 merge failed"
rm -rf "$prof"
ignore='(/usr/|_test\.cc$|/bench/)'
llvm-cov-14 show "$driver" -object "$tool" -instr-profile="$out/sptefuzz.profdata" -format=html \
  -output-dir="$out/html" -ignore-filename-regex="$ignore" -show-line-counts-or-regions || fail "llvm-cov-14 show failed"
llvm-cov-14 report "$driver" -object "$tool" -instr-profile="$out/sptefuzz.profdata" \
  -ignore-filename-regex="$ignore" >"$out/summary.txt" || fail "llvm-cov-14 report failed"

# Model coverage from the traces of every input.
unreadable=0
for f in "${all[@]}"; do
  if [ ! -r "$f" ]; then unreadable=$((unreadable + 1)); echo "WARNING: coverage.sh: cannot read $f" >&2; continue; fi
  rc=0; LLVM_PROFILE_FILE=/dev/null "$tool" replay "$f" >>"$out/traces.txt" 2>&1 || rc=$?
  [ "$rc" -ne 2 ] || { unreadable=$((unreadable + 1)); echo "WARNING: coverage.sh: $f is not a valid input" >&2; }
done
python3 "$root/scripts/model_coverage.py" --labels "$root/core/labels.h" --spte "$root/core/spte.cc" \
  "$out/traces.txt" >"$out/model-coverage.md" || fail "model_coverage.py failed"
rm -f "$out/traces.txt"
log "source coverage: $(tail -n 1 "$out/summary.txt" | awk '{print "regions " $4 ", functions " $7 ", lines " $10}')"
log "$(sed -n 3p "$out/model-coverage.md")"
[ "$unreadable" -eq 0 ] || log "$unreadable inputs could not be read or parsed"
log "report: $out/html/index.html, $out/summary.txt, $out/model-coverage.md"
