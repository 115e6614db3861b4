#!/usr/bin/env bash
# Usage: bench/time_to_bug.sh [--seeds N] [--timeout S] [--presets "P1 P2 ..."]
#                             [--strategies "random pct2 pct3 dfs libfuzzer ..."] [--out-dir DIR]
#
# Time to the first finding, per buggy rules preset and search strategy
# (issue 8). The presets are read at run time from `sptefuzz rules` (every
# preset whose "expected:" line says "violates"). Strategies:
#   random          sptefuzz explore --strategy random (programs + schedules from the seed;
#                   each execution draws its switch rate from 20..500 per mille)
#   random-uniform  ... --switch 1000: uniform random scheduling (every step's
#                   thread drawn uniformly from the enabled ones)
#   pct2, pct3      sptefuzz explore --strategy pct --depth 2|3
#   guided          sptefuzz explore --strategy guided: random runs plus runs
#                   derived from those with new interleaving features
#   guided-uniform  ... --pick uniform: derived runs start from any kept run,
#                   not mostly from those with rare features (the ablation of the pick)
#   guided-nofb     ... --feedback off: the same derived runs, from a corpus
#                   of runs kept at random (the ablation of the feedback)
#   guided-sw1000   ... --switch 1000: the guided search with uniform random
#                   scheduling in its fresh runs and derived runs' random tails
#   dfs             sptefuzz explore --strategy dfs --preemptions 1: programs
#                   drawn from the seed, each explored exhaustively up to 1 preemption
#   dfs-all         sptefuzz explore --strategy dfs --programs all --ops all,
#                   preemption bound 0, 1, 2, 3 (iterative deepening) over
#                   programs of 1 then 2 ops per thread, without then with
#                   --pml; deterministic, so one run; gives the smallest bound
#                   at which that program space shows the bug
#   libfuzzer       the libFuzzer target from an empty corpus, custom mutator on
#   libfuzzer-fb    ... with interleaving feedback (SPTEFUZZ_FEEDBACK=on)
#   libfuzzer-nomut, libfuzzer-fb-nomut   ... with SPTEFUZZ_MUTATOR=off
#   libfuzzer-lfdefaults   libfuzzer with libFuzzer's own defaults,
#                   -entropic=1 -reduce_inputs=1, instead of the target's
#                   (-entropic=0 -reduce_inputs=0, fuzz/sptefuzz_fuzzer.cc):
#                   the ablation of those defaults. (Its predecessor,
#                   libfuzzer-noreduce, gave -reduce_inputs=0 when that was
#                   not the default: bench/results/time-to-bug-noreduce.md.)
#   afl             AFL++ (persistent mode, custom mutator) when its build exists
#   native          sptefuzz stress: the same programs on real OS threads
#                   (native mode, no scheduler), a round per program
# Each (preset, strategy) runs --seeds seeds (default 5) with a fixed
# --timeout (default 60 s); a run that finds nothing counts as the timeout.
# Writes DIR/time-to-bug.md (median and max seconds and executions, found/runs),
# DIR/time-to-bug.svg, DIR/time-to-bug.csv (every run) and
# DIR/README-time-to-bug.md (default DIR: bench/results).
#
# Binaries: SPTEFUZZ_BIN (default build/release/repro/sptefuzz),
# SPTEFUZZ_FUZZER (default build/libfuzzer/fuzz/sptefuzz_fuzzer),
# SPTEFUZZ_FUZZER_FB (the libfuzzer-fb* strategies; default
# sptefuzz_fuzzer_fb next to SPTEFUZZ_FUZZER),
# SPTEFUZZ_AFL_FUZZER (default build/afl/fuzz/sptefuzz_fuzzer),
# SPTEFUZZ_AFL_MUTATOR (default build/release/fuzz/sptefuzz_afl_mutator.so).
# Strategies whose binary is missing are skipped and listed as such.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "ERROR: time_to_bug.sh: $*" >&2; exit 2; }

seeds=5 timeout_s=60 presets="" out_dir=bench/results
strategies="random pct2 pct3 guided guided-nofb dfs dfs-all libfuzzer libfuzzer-fb libfuzzer-nomut libfuzzer-fb-nomut afl native"
while [ $# -gt 0 ]; do
  case "$1" in
    --*) [ "$1" = --help ] || [ $# -ge 2 ] || die "$1 needs a value (see --help)" ;;
  esac
  case "$1" in
    --seeds) seeds="${2:-}"; shift 2 ;;
    --timeout) timeout_s="${2:-}"; shift 2 ;;
    --presets) presets="${2:-}"; shift 2 ;;
    --strategies) strategies="${2:-}"; shift 2 ;;
    --out-dir) out_dir="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$seeds" =~ ^[1-9][0-9]*$ ]] || die "--seeds '$seeds': expected a positive integer"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "--timeout '$timeout_s': expected a positive integer"

bin="${SPTEFUZZ_BIN:-build/release/repro/sptefuzz}"
fuzzer="${SPTEFUZZ_FUZZER:-build/libfuzzer/fuzz/sptefuzz_fuzzer}"
fuzzer_fb="${SPTEFUZZ_FUZZER_FB:-$(dirname "$fuzzer")/sptefuzz_fuzzer_fb}"
afl_fuzzer="${SPTEFUZZ_AFL_FUZZER:-build/afl/fuzz/sptefuzz_fuzzer}"
afl_mut="${SPTEFUZZ_AFL_MUTATOR:-build/release/fuzz/sptefuzz_afl_mutator.so}"
[ -x "$bin" ] || die "no sptefuzz binary at $bin (set SPTEFUZZ_BIN)"
abs() { case "$1" in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
bin="$(abs "$bin")" fuzzer="$(abs "$fuzzer")" fuzzer_fb="$(abs "$fuzzer_fb")" afl_fuzzer="$(abs "$afl_fuzzer")" afl_mut="$(abs "$afl_mut")"
if [ -z "$presets" ]; then
  presets="$("$bin" rules | awk '/^[a-z0-9]/ {name=$1} /^  expected: *violates/ {print name}' | tr '\n' ' ')"
fi
[ -n "$presets" ] || die "no buggy preset in \`$bin rules\`"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
csv="$out_dir/time-to-bug.csv"
mkdir -p "$out_dir"
echo "preset,strategy,seed,found,seconds,executions,note" >"$csv"

# Each run prints "FOUND SECONDS EXECUTIONS NOTE".
run_explore() {  # PRESET SEED ARGS...
  local p="$1" seed="$2"; shift 2
  local out rc=0
  out="$("$bin" explore --rules "$p" --seed "$seed" --time "$timeout_s" --quiet --minimize off "$@" 2>&1)" || rc=$?
  if [ "$rc" = 1 ]; then
    echo "$out" | sed -nE -e 's/^INFO: found after ([0-9]+) executions, [0-9]+ steps, ([0-9.]+) s$/1 \2 \1 -/p' \
      -e 's/^INFO: dfs: violation at ([0-9]+) preemption.* after ([0-9]+) interleavings.* ([0-9.]+) s$/1 \3 \2 preemptions=\1/p' | head -n 1
  elif [ "$rc" = 0 ]; then
    echo "$out" | sed -nE -e "s/^INFO: no violation: ([0-9]+) executions.*/0 $timeout_s \\1 -/p" \
      -e "s/^no violation: ([0-9]+) interleavings.*/0 $timeout_s \\1 -/p" | head -n 1
  else
    echo "$out" >&2; die "sptefuzz explore failed ($rc)"
  fi
}
run_native() {  # PRESET SEED: executions are rounds (one program per round)
  local p="$1" seed="$2" out rc=0
  out="$("$bin" stress --rules "$p" --seed "$seed" --time "$timeout_s" --quiet 2>&1)" || rc=$?
  if [ "$rc" = 1 ]; then
    echo "$out" | sed -nE 's/^INFO: found after ([0-9]+) rounds, ([0-9.]+) s.*/1 \2 \1 -/p' | head -n 1
  elif [ "$rc" = 0 ]; then
    echo "$out" | sed -nE "s/^INFO: no violation: ([0-9]+) rounds.*/0 $timeout_s \\1 -/p" | head -n 1
  else
    echo "$out" >&2; die "sptefuzz stress failed ($rc)"
  fi
}
run_dfs() {  # PRESET: iterative deepening over the preemption bound, programs of 1 then 2 ops per thread
  local p="$1" s e total=0 k m out rc
  s=$(now)
  for k in 0 1 2 3; do
    for m in 1 2; do
      for pml in "" --pml; do
      local left
      left=$(echo "$timeout_s - ($(now) - $s)" | bc)
      if (( $(echo "$left <= 0" | bc) )); then echo "0 $timeout_s $total -"; return; fi
      rc=0
      out="$("$bin" explore --rules "$p" --strategy dfs --programs all --ops all --max-ops "$m" --preemptions "$k" \
             $pml --time "$left" --quiet --minimize off 2>&1)" || rc=$?
      if [ "$rc" = 1 ]; then
        local n
        n="$(echo "$out" | sed -nE 's/^INFO: dfs: violation at ([0-9]+) preemption.* after ([0-9]+) interleavings.*/\2/p')"
        e=$(now)
        echo "1 $(echo "$e - $s" | bc) $((total + n)) preemptions=$k;max-ops=$m${pml:+;pml}"
        return
      fi
      [ "$rc" = 0 ] || { echo "$out" >&2; die "sptefuzz explore --strategy dfs failed ($rc)"; }
      total=$((total + $(echo "$out" | sed -nE 's/^no violation: ([0-9]+) interleavings.*/\1/p')))
      done
    done
  done
  echo "0 $(echo "$(now) - $s" | bc) $total -"
}
run_libfuzzer() {  # BINARY PRESET SEED ENV...
  local lf="$1" p="$2" seed="$3"; shift 3
  rm -rf "$tmp/lf" && mkdir -p "$tmp/lf/c" "$tmp/lf/f"
  local s e
  s=$(now)
  # shellcheck disable=SC2086  # LF_EXTRA: extra libFuzzer flags, split on spaces
  (cd "$tmp/lf" && env SPTEFUZZ_RULES="$p" "$@" "$lf" -seed="$seed" -max_total_time="$timeout_s" -max_len=512 \
     -print_final_stats=1 ${LF_EXTRA:-} -artifact_prefix="$tmp/lf/f/" "$tmp/lf/c" >"$tmp/lf/log" 2>&1) || true
  e=$(now)
  grep -q "^INFO: Seed:" "$tmp/lf/log" || { cat "$tmp/lf/log" >&2; die "libFuzzer did not start"; }
  local found=0 execs
  ls "$tmp/lf/f"/crash-* >/dev/null 2>&1 && found=1
  execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$tmp/lf/log" | tail -n 1)"
  [ -n "$execs" ] || execs="$(grep -oE '^#[0-9]+' "$tmp/lf/log" | tail -n 1 | tr -d '#')"
  local t
  t=$(echo "$e - $s" | bc)
  [ "$found" = 1 ] || t="$timeout_s"
  echo "$found $t ${execs:-0} -"
}
run_afl() {  # PRESET SEED
  local p="$1" seed="$2"
  rm -rf "$tmp/afl" && mkdir -p "$tmp/afl/in"
  printf '\0' >"$tmp/afl/in/zero"
  local s e
  s=$(now)
  env AFL_CUSTOM_MUTATOR_LIBRARY="$afl_mut" SPTEFUZZ_RULES="$p" AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_BENCH_UNTIL_CRASH=1 timeout $((timeout_s + 60)) \
    afl-fuzz -i "$tmp/afl/in" -o "$tmp/afl/out" -s "$seed" -V "$timeout_s" -- "$afl_fuzzer" >"$tmp/afl/log" 2>&1 || true
  e=$(now)
  local found=0 execs t
  ls "$tmp/afl/out/default/crashes"/id:* >/dev/null 2>&1 && found=1
  execs="$(sed -nE 's/^execs_done *: ([0-9]+).*/\1/p' "$tmp/afl/out/default/fuzzer_stats" 2>/dev/null)"
  t=$(echo "$e - $s" | bc)
  [ "$found" = 1 ] || t="$timeout_s"
  echo "$found $t ${execs:-0} -"
}

skipped=()
for p in $presets; do
  for st in $strategies; do
    case "$st" in
      libfuzzer-fb*) [ -x "$fuzzer_fb" ] || { skipped+=("$st (no $fuzzer_fb)"); continue; } ;;
      libfuzzer*) [ -x "$fuzzer" ] || { skipped+=("$st (no $fuzzer)"); continue; } ;;
      afl) { [ -x "$afl_fuzzer" ] && [ -f "$afl_mut" ] && command -v afl-fuzz >/dev/null; } ||
             { skipped+=("afl (no $afl_fuzzer or $afl_mut)"); continue; } ;;
    esac
    n=$seeds
    [ "$st" = dfs-all ] && n=1
    for ((seed = 1; seed <= n; seed++)); do
      case "$st" in
        random) res="$(run_explore "$p" "$seed" --strategy random)" ;;
        random-uniform) res="$(run_explore "$p" "$seed" --strategy random --switch 1000)" ;;
        pct2) res="$(run_explore "$p" "$seed" --strategy pct --depth 2)" ;;
        guided) res="$(run_explore "$p" "$seed" --strategy guided)" ;;
        guided-uniform) res="$(run_explore "$p" "$seed" --strategy guided --pick uniform)" ;;
        guided-nofb) res="$(run_explore "$p" "$seed" --strategy guided --feedback off)" ;;
        guided-sw1000) res="$(run_explore "$p" "$seed" --strategy guided --switch 1000)" ;;
        pct3) res="$(run_explore "$p" "$seed" --strategy pct --depth 3)" ;;
        dfs) res="$(run_explore "$p" "$seed" --strategy dfs --preemptions 1)" ;;
        dfs-all) res="$(run_dfs "$p")" ;;
        libfuzzer) res="$(run_libfuzzer "$fuzzer" "$p" "$seed" SPTEFUZZ_FEEDBACK=off SPTEFUZZ_MUTATOR=on)" ;;
        libfuzzer-fb) res="$(run_libfuzzer "$fuzzer_fb" "$p" "$seed" SPTEFUZZ_FEEDBACK=on SPTEFUZZ_MUTATOR=on)" ;;
        libfuzzer-nomut) res="$(run_libfuzzer "$fuzzer" "$p" "$seed" SPTEFUZZ_FEEDBACK=off SPTEFUZZ_MUTATOR=off)" ;;
        libfuzzer-lfdefaults) res="$(LF_EXTRA="-entropic=1 -reduce_inputs=1" run_libfuzzer "$fuzzer" "$p" "$seed" \
                                     SPTEFUZZ_FEEDBACK=off SPTEFUZZ_MUTATOR=on)" ;;
        libfuzzer-fb-nomut) res="$(run_libfuzzer "$fuzzer_fb" "$p" "$seed" SPTEFUZZ_FEEDBACK=on SPTEFUZZ_MUTATOR=off)" ;;
        afl) res="$(run_afl "$p" "$seed")" ;;
        native) res="$(run_native "$p" "$seed")" ;;
        *) die "unknown strategy '$st'" ;;
      esac
      read -r found secs execs note <<<"$res"
      echo "$p,$st,$seed,$found,$secs,$execs,$note" >>"$csv"
      echo "INFO: time_to_bug.sh: $p $st seed $seed: found=$found ${secs} s, $execs executions ${note}" >&2
    done
  done
done

python3 bench/time_to_bug_report.py "$csv" "$out_dir" "$seeds" "$timeout_s" "$(nproc)" "${skipped[@]+"${skipped[@]}"}"
