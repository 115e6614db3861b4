#!/usr/bin/env bash
# Usage: bench/fuzz_bench.sh [--runs N] [--max-time S] [--throughput-time S]
#                            [--rules "P1 P2 ..."] [--engines "libfuzzer afl"]
#                            [--compare] [--clean-time S] [--out FILE]
#                            [--sections "throughput ttb clean compare"]
#
# The fuzzing benchmarks of issue 3, written as a Markdown table to FILE
# (default bench/results/fuzz.md) and printed:
#   * libFuzzer exec/s on the default preset, one core: the `libfuzzer`
#     preset (release, no sanitizer) and the `libfuzzer-asan` preset;
#   * time to the first finding from an empty corpus, median of N runs
#     (default 5, seeds 1..N), for libFuzzer and AFL++, for every buggy
#     preset (`sptefuzz rules`; default: v5-patch avi-proposal
#     avi-proposal-literal). A run that finds nothing within S seconds
#     (default 300) counts as S, and the table says how many did;
#   * with --compare, libFuzzer on v5-patch: the two schedule encodings of
#     the codec (SPTEFUZZ_CODEC_VERSION=1|2) and the structure-aware mutator
#     on/off, also per targeted bug (SPTEFUZZ_ONLY=lost-page-dirty, the B1
#     interleaving, the harder of the two);
#   * the correct presets (--clean-rules, default pre-3.6 linux-3.6): one
#     libFuzzer run of --clean-time seconds each (default 600) from the
#     seeds, which must find nothing.
#
# Build directories: SPTEFUZZ_BENCH_LIBFUZZER_DIR (default build/libfuzzer),
# SPTEFUZZ_BENCH_ASAN_DIR (build/libfuzzer-asan), SPTEFUZZ_BENCH_AFL_DIR
# (build/afl); each is built (presets libfuzzer, libfuzzer-asan; the AFL++
# configuration of scripts/fuzz.sh) when its binary is missing.
# "Empty corpus": libFuzzer starts from an empty directory; AFL++ needs one
# input, so it gets a single zero byte (the same test case as the empty
# input: the codec's defaults, no schedule).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
die() { echo "ERROR: fuzz_bench.sh: $*" >&2; exit 2; }

runs=5 max_time=300 tp_time=30 rules="v5-patch avi-proposal avi-proposal-literal" engines="libfuzzer afl"
compare=0 out=bench/results/fuzz.md sections="throughput ttb clean" clean_time=600 clean_rules="pre-3.6 linux-3.6"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 ;;
    --max-time) max_time="${2:-}"; shift 2 ;;
    --throughput-time) tp_time="${2:-}"; shift 2 ;;
    --rules) rules="${2:-}"; shift 2 ;;
    --engines) engines="${2:-}"; shift 2 ;;
    --compare) compare=1; shift ;;
    --sections) sections="${2:-}"; shift 2 ;;
    --clean-time) clean_time="${2:-}"; shift 2 ;;
    --clean-rules) clean_rules="${2:-}"; shift 2 ;;
    --out) out="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for v in runs max_time tp_time clean_time; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "--${v//_/-} '${!v}': expected a positive integer"
done
for e in $engines; do case "$e" in libfuzzer|afl) ;; *) die "--engines: unknown engine '$e'" ;; esac; done

lf_dir="${SPTEFUZZ_BENCH_LIBFUZZER_DIR:-build/libfuzzer}"
asan_dir="${SPTEFUZZ_BENCH_ASAN_DIR:-build/libfuzzer-asan}"
afl_dir="${SPTEFUZZ_BENCH_AFL_DIR:-build/afl}"
bjobs="${SPTEFUZZ_BUILD_JOBS:-$(nproc)}"
build_preset() {  # DIR PRESET
  [ -x "$1/fuzz/sptefuzz_fuzzer" ] && return 0
  echo "INFO: fuzz_bench.sh: building preset $2 into $1" >&2
  cmake --preset "$2" -B "$1" >/dev/null && cmake --build "$1" -j "$bjobs" --target sptefuzz_fuzzer >/dev/null
}
build_preset "$lf_dir" libfuzzer
build_preset "$asan_dir" libfuzzer-asan
if [[ " $engines " == *" afl "* ]] && [ ! -x "$afl_dir/fuzz/sptefuzz_fuzzer" ]; then
  echo "INFO: fuzz_bench.sh: building the AFL++ target into $afl_dir" >&2
  cmake -S . -B "$afl_dir" -G Ninja -DCMAKE_CXX_COMPILER=afl-clang-fast++ -DCMAKE_C_COMPILER=afl-clang-fast \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g -DNDEBUG" \
    -DSPTEFUZZ_LIBFUZZER=ON -DSPTEFUZZ_TESTS=OFF -DSPTEFUZZ_BENCH=OFF >/dev/null
  AFL_QUIET=1 cmake --build "$afl_dir" -j "$bjobs" --target sptefuzz_fuzzer >/dev/null
fi
mut_so="${SPTEFUZZ_BENCH_AFL_MUTATOR:-build/afl-mutator/fuzz/sptefuzz_afl_mutator.so}"
if [[ " $engines " == *" afl "* ]] && [ ! -f "$mut_so" ]; then
  echo "INFO: fuzz_bench.sh: building the AFL++ custom mutator into build/afl-mutator" >&2
  cmake -S . -B build/afl-mutator -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSPTEFUZZ_TESTS=OFF -DSPTEFUZZ_BENCH=OFF >/dev/null
  cmake --build build/afl-mutator -j "$bjobs" --target sptefuzz_afl_mutator >/dev/null
  mut_so=build/afl-mutator/fuzz/sptefuzz_afl_mutator.so
fi
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }
[[ " $engines " == *" afl "* ]] && mut_so="$(abspath "$mut_so")"
lf="$(abspath "$lf_dir")/fuzz/sptefuzz_fuzzer"
asan="$(abspath "$asan_dir")/fuzz/sptefuzz_fuzzer"
afl="$(abspath "$afl_dir")/fuzz/sptefuzz_fuzzer"
for b in "$lf" "$asan"; do [ -x "$b" ] || die "no fuzz target at $b"; done
dict="$root/corpus/sptefuzz.dict"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/sptefuzz-bench.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# exec/s of one libFuzzer process on the default preset, from the seeds:
# "WALL | CPU" where CPU counts executions per second of CPU time the
# process got (less sensitive to other load on a shared machine).
throughput() {  # BINARY
  rm -rf "$tmp/tp" && mkdir -p "$tmp/tp/c" && cp corpus/seeds/* "$tmp/tp/c/"
  (cd "$tmp/tp" && SPTEFUZZ_RULES= /usr/bin/time -f "cpu %U %S" -o "$tmp/tp/time" "$1" -max_total_time="$tp_time" \
     -print_final_stats=1 -max_len=512 -dict="$dict" -seed=1 "$tmp/tp/c" >"$tmp/tp/log" 2>&1) || true
  local wall execs cpu
  wall="$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$tmp/tp/log")"
  execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$tmp/tp/log")"
  cpu="$(awk '/^cpu/ {print $2 + $3}' "$tmp/tp/time")"
  echo "${wall:-?} | $(awk -v e="${execs:-0}" -v c="${cpu:-0}" 'BEGIN {if (c > 0) printf "%d", e / c; else print "?"}')"
}

# Seconds (and executions) to the first finding from an empty corpus.
# Prints "SECONDS EXECS FOUND" (FOUND 0: cut at --max-time).
ttb_libfuzzer() {  # RULES SEED [ENV...]
  local r="$1" seed="$2"; shift 2
  rm -rf "$tmp/lf" && mkdir -p "$tmp/lf/c" "$tmp/lf/f"
  local s e
  s=$(now)
  (cd "$tmp/lf" && env SPTEFUZZ_RULES="$r" "$@" "$lf" -seed="$seed" -max_total_time="$max_time" -max_len=512 \
     -dict="$dict" -print_final_stats=1 -artifact_prefix="$tmp/lf/f/" "$tmp/lf/c" >"$tmp/lf/log" 2>&1) || true
  e=$(now)
  local found=0
  ls "$tmp/lf/f"/crash-* >/dev/null 2>&1 && found=1
  grep -q "^INFO: Seed:" "$tmp/lf/log" || { cat "$tmp/lf/log" >&2; die "libFuzzer did not start"; }
  local execs
  execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$tmp/lf/log" | tail -n 1)"
  echo "$(echo "$e - $s" | bc) ${execs:-0} $found"
}
ttb_afl() {  # RULES SEED [ENV...]
  local r="$1" seed="$2"; shift 2
  rm -rf "$tmp/afl" && mkdir -p "$tmp/afl/in"
  printf '\0' >"$tmp/afl/in/zero"
  local s e mut=()
  # As scripts/fuzz.sh: the structure-aware mutator unless SPTEFUZZ_MUTATOR=off.
  [[ " $* " == *" SPTEFUZZ_MUTATOR=off "* ]] || mut=(AFL_CUSTOM_MUTATOR_LIBRARY="$mut_so")
  s=$(now)
  env "$@" "${mut[@]}" SPTEFUZZ_RULES="$r" AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
    AFL_BENCH_UNTIL_CRASH=1 timeout $((max_time + 60)) afl-fuzz -i "$tmp/afl/in" -o "$tmp/afl/out" -s "$seed" \
    -V "$max_time" -x "$dict" -- "$afl" >"$tmp/afl/log" 2>&1 || true
  e=$(now)
  local found=0
  ls "$tmp/afl/out/default/crashes"/id:* >/dev/null 2>&1 && found=1
  [ -f "$tmp/afl/out/default/fuzzer_stats" ] || { tail -n 20 "$tmp/afl/log" >&2; die "afl-fuzz did not start"; }
  local execs
  execs="$(sed -nE 's/^execs_done *: ([0-9]+).*/\1/p' "$tmp/afl/out/default/fuzzer_stats" 2>/dev/null)"
  echo "$(echo "$e - $s" | bc) ${execs:-0} $found"
}

# "median_s | median_execs | found/runs | all times" over --runs seeds.
series() {  # ENGINE RULES [ENV...]
  local engine="$1" r="$2"; shift 2
  local times=() execs=() found=0 i res
  for ((i = 1; i <= runs; i++)); do
    if [ "$engine" = afl ]; then res="$(ttb_afl "$r" "$i" "$@")"; else res="$(ttb_libfuzzer "$r" "$i" "$@")"; fi
    read -r t x f <<<"$res"
    [ "$f" = 1 ] || t="$max_time"
    times+=("$(printf '%.2f' "$t")"); execs+=("$x"); found=$((found + f))
    echo "INFO: fuzz_bench.sh: $engine $r ${*:-} seed $i: $(printf '%.2f' "$t") s, $x execs, found=$f" >&2
  done
  echo "$(printf '%s\n' "${times[@]}" | median) | $(printf '%s\n' "${execs[@]}" | median) | $found/$runs | ${times[*]}"
}

{
  echo "# Fuzzing benchmarks (issue 3)"
  echo
  echo "Written by \`bench/fuzz_bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
  echo "($(uptime | sed 's/.*load average/load average/')); clang-14, afl++ $(afl-fuzz -h 2>&1 | sed -nE 's/.*afl-fuzz\+\+([0-9.a-z]+).*/\1/p' | head -n1)."
  echo "Figures vary by up to 2x between runs on shared machines (toolchain.md)."
  echo
  on() { [[ " $sections " == *" $1 "* ]] || { [ "$1" = compare ] && [ "$compare" = 1 ]; }; }
  if on throughput; then
  echo "## Throughput, default preset (SPTEFUZZ_RULES unset), one core, ${tp_time} s from the seeds"
  echo
  echo "| build | exec/s (wall) | exec per CPU-second |"
  echo "|---|---|---|"
  echo "| libFuzzer, release (-O2), no sanitizer (\`libfuzzer\` preset) | $(throughput "$lf") |"
  echo "| libFuzzer, ASan + UBSan (\`libfuzzer-asan\` preset) | $(throughput "$asan") |"
  fi
  if on ttb; then
  echo
  echo "## Time to the first finding from an empty corpus"
  echo
  echo "Median of $runs runs (seeds 1..$runs), one core, cut at ${max_time} s; the"
  echo "structure-aware mutator and the default codec (v2, one thread choice per step) are on."
  echo
  echo "| preset | engine | median s | median execs | found | all runs (s) |"
  echo "|---|---|---|---|---|---|"
  for r in $rules; do
    for e in $engines; do
      echo "| $r | $e | $(series "$e" "$r") |"
    done
  done
  fi
  if on clean; then
  echo
  echo "## Correct presets: no finding in ${clean_time} s (libFuzzer, one core, from the seeds)"
  echo
  echo "| preset | executions | findings |"
  echo "|---|---|---|"
  for r in $clean_rules; do
    rm -rf "$tmp/cl" && mkdir -p "$tmp/cl/c" "$tmp/cl/f" && cp corpus/seeds/* "$tmp/cl/c/"
    (cd "$tmp/cl" && SPTEFUZZ_RULES="$r" "$lf" -max_total_time="$clean_time" -max_len=512 -dict="$dict" \
       -print_final_stats=1 -artifact_prefix="$tmp/cl/f/" "$tmp/cl/c" >"$tmp/cl/log" 2>&1) || true
    nf="$(ls "$tmp/cl/f" | wc -l)"
    ex="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$tmp/cl/log" | tail -n 1)"
    echo "| $r | ${ex:-?} | $nf$( [ "$nf" = 0 ] || grep -m1 '^SUMMARY: sptefuzz' "$tmp/cl/log" | sed 's/^/: /') |"
    echo "INFO: fuzz_bench.sh: clean $r: ${ex:-?} execs, $nf findings" >&2
  done
  fi
  if on compare; then
    echo
    echo "## Codec schedule encodings and the custom mutator (libFuzzer, v5-patch)"
    echo
    echo "v1: 2-byte segment records (sparse preemptions over run-until-blocked);"
    echo "v2: one byte per step (thread choice). Mutator: SPTEFUZZ_MUTATOR."
    echo "\"any\" stops at the first finding; \"B1\" only at lost-page-dirty (SPTEFUZZ_ONLY)."
    echo
    echo "| bug | codec | mutator | median s | median execs | found | all runs (s) |"
    echo "|---|---|---|---|---|---|---|"
    for only in "" lost-page-dirty; do
      for v in 1 2; do
        for m in on off; do
          echo "| ${only:-any} | v$v | $m | $(series libfuzzer v5-patch SPTEFUZZ_CODEC_VERSION=$v SPTEFUZZ_MUTATOR=$m SPTEFUZZ_ONLY=$only) |"
        done
      done
    done
    if [[ " $engines " == *" afl "* ]]; then
      echo
      echo "AFL++ (its havoc mutations, plus the custom mutator library when on), v5-patch, B1 only:"
      echo
      echo "| bug | codec | mutator | median s | median execs | found | all runs (s) |"
      echo "|---|---|---|---|---|---|---|"
      for m in on off; do
        echo "| lost-page-dirty | default (v$(sed -nE 's/.*kCodecVersion = kCodecVersion(Steps|Segments);.*/\1/p' fuzz/codec.h | sed 's/Steps/2/;s/Segments/1/')) | $m | $(series afl v5-patch SPTEFUZZ_MUTATOR=$m SPTEFUZZ_ONLY=lost-page-dirty) |"
      done
    fi
  fi
} | tee "$tmp/result.md"
mkdir -p "$(dirname "$out")"
cp "$tmp/result.md" "$out"
echo "INFO: fuzz_bench.sh: wrote $out" >&2
