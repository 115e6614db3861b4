#!/usr/bin/env bash
# Usage: scripts/oss-fuzz/build.sh [-h|--help]
#
# OSS-Fuzz / ClusterFuzzLite build script (.clusterfuzzlite/build.sh and
# projects/sptefuzz/build.sh call it). It takes no arguments: it reads the
# environment that OSS-Fuzz's base-builder image sets (see
# https://google.github.io/oss-fuzz/getting-started/new-project-guide/):
#
#   CC, CXX               compilers (clang, or AFL++'s afl-clang-fast[++])
#   CFLAGS, CXXFLAGS      coverage and sanitizer flags (for example
#                         -fsanitize=address -fsanitize=fuzzer-no-link)
#   LIB_FUZZING_ENGINE    what a fuzz target links (-fsanitize=fuzzer, or the
#                         AFL++ driver library)
#   OUT                   where the fuzz targets and their files go
#   SRC                   source root; $SRC/abseil-cpp, when present, is built
#                         with the flags above (needed with -stdlib=libc++)
#   WORK                  build directory (default: a fresh temporary one)
#   SANITIZER, FUZZING_ENGINE   as OSS-Fuzz sets them (checked, reported)
#   SPTEFUZZ_BUILD_JOBS   parallel build jobs (default: all cores)
#
# For every fuzz target T (sptefuzz_fuzzer, repro_parser_fuzzer) it writes
# $OUT/T, $OUT/T_seed_corpus.zip, $OUT/T.dict and $OUT/T.options.
# Exit status: 0 built, 1 the build failed, 2 bad usage or environment.
set -euo pipefail

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "ERROR: oss-fuzz/build.sh: $*" >&2; exit 2; }
fail() { echo "ERROR: oss-fuzz/build.sh: $*" >&2; exit 1; }

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) die "unexpected argument '$1': this script takes none, only the OSS-Fuzz environment (see --help)" ;;
esac
[ $# -le 1 ] || die "unexpected arguments (see --help)"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
for v in CC CXX OUT LIB_FUZZING_ENGINE; do
  [ -n "${!v:-}" ] || die "\$$v is not set (OSS-Fuzz sets it; see --help)"
done
CFLAGS="${CFLAGS:-}" CXXFLAGS="${CXXFLAGS:-}" SRC="${SRC:-$(dirname "$root")}"
SANITIZER="${SANITIZER:-}" FUZZING_ENGINE="${FUZZING_ENGINE:-}"
case "$SANITIZER" in
  ""|address|undefined|coverage|introspector|none) ;;
  memory|thread) die "SANITIZER=$SANITIZER is not supported (project.yaml lists address and undefined)" ;;
  *) echo "WARNING: oss-fuzz/build.sh: unknown SANITIZER='$SANITIZER'; building with the given flags" >&2 ;;
esac
case "$FUZZING_ENGINE" in
  ""|libfuzzer|afl|honggfuzz|centipede|none) ;;
  *) echo "WARNING: oss-fuzz/build.sh: unknown FUZZING_ENGINE='$FUZZING_ENGINE'" >&2 ;;
esac
command -v "${CC%% *}" >/dev/null || die "\$CC '$CC' not found"
command -v "${CXX%% *}" >/dev/null || die "\$CXX '$CXX' not found"
command -v cmake >/dev/null || die "cmake not found"
command -v zip >/dev/null || die "zip not found"
mkdir -p "$OUT" || die "cannot create \$OUT '$OUT'"
OUT="$(cd "$OUT" && pwd)"
if [ -z "${WORK:-}" ]; then WORK="$(mktemp -d)"; fi
mkdir -p "$WORK" || die "cannot create \$WORK '$WORK'"
jobs="${SPTEFUZZ_BUILD_JOBS:-$(nproc)}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "SPTEFUZZ_BUILD_JOBS='$jobs': expected a positive integer"
gen=(-G "Unix Makefiles")
if command -v ninja >/dev/null; then gen=(-G Ninja); fi
echo "INFO: oss-fuzz/build.sh: CC=$CC CXX=$CXX SANITIZER=${SANITIZER:-?} FUZZING_ENGINE=${FUZZING_ENGINE:-?}" \
     "LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE OUT=$OUT WORK=$WORK"

# abseil: a distribution's build is compiled against libstdc++; when the
# flags ask for another C++ library (OSS-Fuzz: -stdlib=libc++), or when
# $SRC/abseil-cpp is there, build abseil from source with the same flags.
prefix=()
if [ -d "$SRC/abseil-cpp" ] || [[ " $CXXFLAGS " == *" -stdlib=libc++ "* ]]; then
  [ -d "$SRC/abseil-cpp" ] || die "CXXFLAGS has -stdlib=libc++ but \$SRC/abseil-cpp is missing (the Dockerfile clones it)"
  absl_src="$WORK/abseil-src" absl_build="$WORK/abseil-build" absl_inst="$WORK/abseil-install"
  if [ ! -f "$absl_inst/.done" ]; then
    rm -rf "$absl_src" "$absl_build" "$absl_inst"
    cp -r "$SRC/abseil-cpp" "$absl_src"
    # As Debian does: abseil's own string_view/optional/variant, so that the
    # library and sptefuzz (C++20) agree whatever standard each is built with.
    sed -i -E 's/^(#define ABSL_OPTION_USE_STD_[A-Z_]+) 2$/\1 0/' "$absl_src/absl/base/options.h"
    cmake -S "$absl_src" -B "$absl_build" "${gen[@]}" -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
      -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_STANDARD=20 \
      -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DABSL_PROPAGATE_CXX_STD=ON -DBUILD_TESTING=OFF \
      -DCMAKE_INSTALL_PREFIX="$absl_inst" || fail "abseil: cmake failed"
    cmake --build "$absl_build" -j "$jobs" --target install || fail "abseil: build failed"
    touch "$absl_inst/.done"
  fi
  prefix=(-DCMAKE_PREFIX_PATH="$WORK/abseil-install")
fi

bdir="$WORK/sptefuzz-build"
targets=(sptefuzz_fuzzer repro_parser_fuzzer)
cmake -S "$root" -B "$bdir" "${gen[@]}" "${prefix[@]}" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_BUILD_TYPE= \
  -DSPTEFUZZ_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" -DSPTEFUZZ_LIBFUZZER=OFF -DSPTEFUZZ_LIBFUZZER_SMOKE=OFF \
  -DSPTEFUZZ_TESTS=OFF -DSPTEFUZZ_BENCH=OFF -DSPTEFUZZ_ASAN=OFF -DSPTEFUZZ_UBSAN=OFF -DSPTEFUZZ_TSAN=OFF \
  || fail "cmake configure failed"
cmake --build "$bdir" -j "$jobs" --target "${targets[@]}" || fail "the build of ${targets[*]} failed"

install_target() {  # T BINARY DICT MAX_LEN SEED_FILES...
  local t="$1" bin="$2" dict="$3" max_len="$4"; shift 4
  [ -x "$bin" ] || fail "$bin was not built"
  cp "$bin" "$OUT/$t"
  cp "$dict" "$OUT/$t.dict"
  printf '[libfuzzer]\nmax_len = %s\n' "$max_len" >"$OUT/$t.options"
  rm -f "$OUT/${t}_seed_corpus.zip"
  [ $# -gt 0 ] || fail "no seed files for $t"
  zip -q -j "$OUT/${t}_seed_corpus.zip" "$@" || fail "zip of the seeds of $t failed"
  echo "INFO: oss-fuzz/build.sh: $OUT/$t (+ .dict, .options, _seed_corpus.zip with $# inputs)"
}
shopt -s nullglob
# sptefuzz_fuzzer reads fuzz bytes: the seeds (one per spec scenario).
install_target sptefuzz_fuzzer "$bdir/fuzz/sptefuzz_fuzzer" "$root/corpus/sptefuzz.dict" 512 \
  "$root"/corpus/seeds/*.bin
# repro_parser_fuzzer reads text repros: the regressions.
install_target repro_parser_fuzzer "$bdir/repro/repro_parser_fuzzer" "$root/repro/repro_parser.dict" 4096 \
  "$root"/corpus/regressions/*.repro
