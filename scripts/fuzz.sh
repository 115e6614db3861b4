#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [--rules NAME] [--engine libfuzzer|afl] [--jobs N]
#                        [--time S] [--corpus DIR] [--findings DIR]
#
# Installs what is missing (scripts/setup.sh), builds the fuzz target and
# fuzzes the rules preset NAME (default: the newest kernel preset) until the
# first finding or for S seconds. Shows one progress line, ends with a
# summary, and writes each finding next to a .txt report that holds its
# exact replay command. Never overwrites a corpus file or a finding.
#
#   --rules NAME        rules preset (see `sptefuzz rules`); default: the
#                       newest kernel preset (`sptefuzz rules` names it)
#   --engine E          libfuzzer (default) or afl (AFL++, main + secondaries)
#   --jobs N            parallel fuzzing processes (default: all cores)
#   --time S            seconds to fuzz (default 300)
#   --corpus DIR        working corpus (default build/fuzz/RULES/corpus); the
#                       seeds of corpus/seeds are copied in when absent
#   --findings DIR      where findings go (default build/fuzz/RULES/findings)
#
# Environment: SPTEFUZZ_BUILD_JOBS (default: all cores) for the build;
# SPTEFUZZ_MUTATOR=off turns the structure-aware mutator off.
# Exit status: 0 no finding, 1 finding(s), 2 bad usage or setup failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "ERROR: fuzz.sh: $*" >&2; exit 2; }

rules="" engine=libfuzzer jobs="$(nproc)" time_s=300 corpus="" findings=""
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rules) need_arg "$@"; rules="$2"; shift 2 ;;
    --engine) need_arg "$@"; engine="$2"; shift 2 ;;
    --jobs) need_arg "$@"; jobs="$2"; shift 2 ;;
    --time) need_arg "$@"; time_s="$2"; shift 2 ;;
    --corpus) need_arg "$@"; corpus="$2"; shift 2 ;;
    --findings) need_arg "$@"; findings="$2"; shift 2 ;;
    --rules=*|--engine=*|--jobs=*|--time=*|--corpus=*|--findings=*)
      k="${1%%=*}"; v="${1#*=}"; shift; set -- "$k" "$v" "$@" ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1': expected --rules, --engine, --jobs, --time, --corpus, --findings (see --help)" ;;
  esac
done
case "$engine" in libfuzzer|afl) ;; *) die "--engine '$engine': expected libfuzzer or afl" ;; esac
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs '$jobs': expected a positive integer"
[[ "$time_s" =~ ^[1-9][0-9]*$ ]] || die "--time '$time_s': expected a positive number of seconds"
[ "$jobs" -le 256 ] || die "--jobs $jobs: expected at most 256"

scripts/setup.sh || die "setup failed"
build_jobs="${SPTEFUZZ_BUILD_JOBS:-$(nproc)}"
log_build() { echo "INFO: fuzz.sh: building $1 (log: $2)"; }
if [ "$engine" = libfuzzer ]; then
  bdir=build/libfuzzer
  log_build "preset libfuzzer" "$bdir/fuzz-build.log"
  mkdir -p "$bdir"
  { cmake --preset libfuzzer && cmake --build "$bdir" -j "$build_jobs" --target sptefuzz_fuzzer sptefuzz; } \
    >"$bdir/fuzz-build.log" 2>&1 || { tail -n 30 "$bdir/fuzz-build.log" >&2; die "the libfuzzer build failed"; }
else
  bdir=build/afl
  command -v afl-fuzz >/dev/null && command -v afl-clang-fast++ >/dev/null || die "afl++ is not installed"
  log_build "the AFL++ target with afl-clang-fast++" "$bdir/fuzz-build.log"
  mkdir -p "$bdir"
  # No CMake preset holds this build yet; these are its cache variables.
  { cmake -S . -B "$bdir" -G Ninja -DCMAKE_CXX_COMPILER=afl-clang-fast++ -DCMAKE_C_COMPILER=afl-clang-fast \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g -DNDEBUG" \
      -DSPTEFUZZ_LIBFUZZER=ON -DSPTEFUZZ_TESTS=OFF -DSPTEFUZZ_BENCH=OFF &&
    AFL_QUIET=1 AFL_LLVM_ALLOWLIST="$root/fuzz/afl_allowlist.txt" cmake --build "$bdir" -j "$build_jobs" --target sptefuzz_fuzzer sptefuzz; } \
    >"$bdir/fuzz-build.log" 2>&1 || { tail -n 30 "$bdir/fuzz-build.log" >&2; die "the AFL++ build failed"; }
  # The structure-aware mutator as an AFL++ custom mutator library: afl-fuzz
  # loads it, so it is built without AFL++ instrumentation, by clang.
  mdir=build/afl-mutator
  { cmake -S . -B "$mdir" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSPTEFUZZ_TESTS=OFF -DSPTEFUZZ_BENCH=OFF && cmake --build "$mdir" -j "$build_jobs" --target sptefuzz_afl_mutator; } \
    >"$bdir/fuzz-build-mutator.log" 2>&1 || { tail -n 30 "$bdir/fuzz-build-mutator.log" >&2; die "the AFL++ mutator build failed"; }
  afl_mutator="$root/$mdir/fuzz/sptefuzz_afl_mutator.so"
fi
fuzzer="$root/$bdir/fuzz/sptefuzz_fuzzer"
tool="$root/$bdir/repro/sptefuzz"

# The preset is checked by the target itself (it exits 2 with the list).
if [ -z "$rules" ]; then
  rules="$("$tool" rules 2>/dev/null | sed -n 's/^default preset: //p')"
  [ -n "$rules" ] || rules=linux-3.6
fi
probe="$(mktemp)"
set +e
msg="$(SPTEFUZZ_RULES="$rules" "$fuzzer" "$probe" 2>&1)"; rc=$?
set -e
rm -f "$probe"
if [ "$rc" -eq 2 ] || grep -q "^ERROR: sptefuzz_fuzzer:" <<<"$msg"; then
  grep "^ERROR:" <<<"$msg" | sed 's/^ERROR: sptefuzz_fuzzer:/ERROR: fuzz.sh: --rules:/' >&2
  exit 2
fi

corpus="${corpus:-build/fuzz/$rules/corpus}"
findings="${findings:-build/fuzz/$rules/findings}"
mkdir -p "$corpus" "$findings" || die "cannot create $corpus or $findings"
corpus="$(cd "$corpus" && pwd)" findings="$(cd "$findings" && pwd)"
for s in corpus/seeds/*; do
  [ -e "$corpus/$(basename "$s")" ] || cp "$s" "$corpus/"
done
dict="$root/corpus/sptefuzz.dict"
work="$(mktemp -d "${TMPDIR:-/tmp}/sptefuzz-fuzz.XXXXXX")"
before="$(ls -A "$findings" | sort)"
export SPTEFUZZ_RULES="$rules"
echo "INFO: fuzz.sh: engine $engine, rules $rules, $jobs job(s), ${time_s} s, corpus $corpus, findings $findings"

# From here on the script watches processes and parses logs that may be
# empty: a failing grep is not an error.
set +e +o pipefail
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'stop_all; echo; echo "INFO: fuzz.sh: interrupted"' INT TERM

touch "$work/stamp"
if [ "$engine" = libfuzzer ]; then
  # One process for one job; fork mode (one log, one corpus) for more.
  # Both stop at the first finding.
  opts=(-max_total_time="$time_s" -artifact_prefix="$findings/" -dict="$dict" -print_final_stats=1
        -reload=1 -max_len=512)
  [ "$jobs" -gt 1 ] && opts+=(-fork="$jobs")
  (cd "$work" && exec "$fuzzer" "${opts[@]}" "$corpus" >"$work/log" 2>&1) &
  pids+=($!)
else
  state="$work/afl"
  # AFL++ refuses to start when every seed crashes (the scenario seeds do
  # under their buggy presets): it skips crashing seeds and always has the
  # empty test case (one zero byte) to start from.
  mkdir -p "$work/afl-in"
  cp "$corpus"/* "$work/afl-in/" 2>/dev/null
  printf '\0' >"$work/afl-in/zero"
  export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
  export AFL_BENCH_UNTIL_CRASH=1 AFL_SKIP_CRASHES=1
  [ "${SPTEFUZZ_MUTATOR:-on}" = off ] || export AFL_CUSTOM_MUTATOR_LIBRARY="$afl_mutator"
  # No @@: AFL++ 4.04c's libFuzzer driver takes inputs from shared memory
  # (given a file argument under afl-fuzz it aborts: aflpp_driver.c "N > 0").
  for ((j = 0; j < jobs; j++)); do
    role=(-M main); name=main
    [ "$j" -gt 0 ] && { role=(-S "sec$j"); name="sec$j"; }
    # The progress line counts executions in this file (fuzz/fuzz_env.h):
    # under AFL_NO_UI, AFL++ 4.04c rewrites fuzzer_stats only once a minute.
    SPTEFUZZ_EXEC_COUNTER="$work/afl-$name.execs" \
    afl-fuzz -i "$work/afl-in" -o "$state" -x "$dict" -V "$time_s" "${role[@]}" -- "$fuzzer" \
      >"$work/afl-$name.log" 2>&1 &
    pids+=($!)
  done
fi

# Progress: one line, refreshed in place on a terminal.
start=$(date +%s)
progress() {
  local execs=0 eps=0 corp=0
  if [ "$engine" = libfuzzer ]; then
    local line
    line="$(grep -aE '^#[0-9]+' "$work/log" 2>/dev/null | tail -n 1)"
    execs="$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")"
    eps="$(sed -nE 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$line")"
    corp="$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$line")"
  else
    # Live counts: the target's execution counters and the queue files
    # (fuzzer_stats would lag by up to a minute). exec/s: the average since
    # the start, as libFuzzer prints it.
    local f e q n
    for f in "$work"/afl-*.execs; do
      [ -f "$f" ] || continue
      e="$(od -An -tu8 -N8 "$f" 2>/dev/null | tr -d ' ')"
      execs=$((execs + ${e:-0}))
    done
    for q in "$work"/afl/*/queue; do
      [ -d "$q" ] || continue
      n="$(find "$q" -maxdepth 1 -name 'id:*' | wc -l)"
      corp=$((corp > n ? corp : n))
    done
    local el=$(($(date +%s) - start))
    eps=$((el > 0 ? execs / el : execs))
  fi
  local nf
  nf="$(new_findings | wc -l)"
  printf 'INFO: %4ds  executions %s  exec/s %s  corpus %s  findings %s' "$(($(date +%s) - start))" \
    "${execs:-0}" "${eps:-0}" "${corp:-0}" "$nf"
}
# The findings of this run: the files the engine says it wrote (libFuzzer
# names a crash after the hash of its content, so a known finding found again
# is the same file, rewritten with the same bytes).
new_findings() {
  if [ "$engine" = afl ]; then
    ls "$work"/afl/*/crashes/id:* 2>/dev/null
  else
    { cat "$work"/log 2>/dev/null | sed -n 's/.*Test unit written to \(.*\)$/\1/p'
      find "$findings" -maxdepth 1 -type f -newer "$work/stamp" ! -name '*.txt'; } | sort -u
  fi
}
alive() { for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
last_print=0
while alive; do
  sleep 1
  if [ -t 1 ]; then
    printf '\r%s\033[K' "$(progress)"
  elif [ $(($(date +%s) - last_print)) -ge 30 ]; then
    progress; echo; last_print=$(date +%s)
  fi
  # The first finding ends the run, for every job and both engines.
  if [ -n "$(new_findings)" ]; then sleep 1; stop_all; fi
  [ $(($(date +%s) - start)) -le $((time_s + 30)) ] || stop_all
done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
final="$(progress)"
[ -t 1 ] && printf '\r\033[K'
echo "$final"

# AFL++: copy the new corpus entries and the crashes out of its state.
found=()
if [ "$engine" = afl ]; then
  for q in "$work"/afl/*/queue/id:*; do
    [ -f "$q" ] || continue
    h="$(sha1sum "$q" | cut -c1-40)"
    [ -e "$corpus/$h" ] || cp "$q" "$corpus/$h"
  done
  for c in "$work"/afl/*/crashes/id:*; do
    [ -f "$c" ] || continue
    h="$findings/crash-$(sha1sum "$c" | cut -c1-40)"
    [ -e "$h" ] || cp "$c" "$h"
    found+=("$h")
  done
else
  while read -r f; do [ -n "$f" ] && found+=("$f"); done < <(new_findings)
fi

# Each finding: its report, with the exact replay command, next to it.
n=0
summary=()
for path in $(printf '%s\n' "${found[@]}" | sort -u); do
  [ -f "$path" ] || continue
  report="$path.txt"
  replay="$tool replay --rules $rules $path"
  out="$(SPTEFUZZ_RULES="$rules" "$fuzzer" "$path" 2>&1)"
  known=""
  grep -qxF "$(basename "$path")" <<<"$before" && known=" (already in $findings)"
  if [ ! -e "$report" ]; then
    {
      echo "# sptefuzz finding: rules $rules, engine $engine"
      echo "# replay: $replay"
      grep -E '^(ERROR: sptefuzz:|SUMMARY: sptefuzz:|INFO: also)' <<<"$out"
      sed -n '/^--- repro ---$/,/^--- end repro ---$/p' <<<"$out"
    } >"$report"
  fi
  n=$((n + 1))
  summary+=("$(grep -m1 '^SUMMARY: sptefuzz:' <<<"$out" || echo "SUMMARY: sptefuzz: (the finding did not reproduce)")$known")
  summary+=("  finding: $path")
  summary+=("  report:  $report")
  summary+=("  replay:  $replay")
done
if [ "$n" -eq 0 ]; then
  echo "SUMMARY: fuzz.sh: no finding under rules $rules in $(($(date +%s) - start)) s ($engine, $jobs job(s)); corpus $corpus has $(ls -A "$corpus" | wc -l) inputs"
  rm -rf "$work"
  exit 0
fi
printf '%s\n' "${summary[@]}"
echo "SUMMARY: fuzz.sh: $n finding(s) under rules $rules ($engine, $jobs job(s)); engine logs in $work"
exit 1
