#!/usr/bin/env bash
# Usage: scripts/minimize.sh [--rules NAME] [--engine libfuzzer|afl|none]
#                            [--fuzzer BIN] [--sptefuzz BIN] [--byte-time S] CRASH -o OUT
#
# Turns a crash of the fuzz target (a raw fuzz input) into a minimized text
# repro: first the engine shrinks the bytes (libFuzzer -minimize_crash, or
# afl-tmin), then `sptefuzz minimize` shrinks the test case itself and writes
# OUT with its `expect violation NAME` line. If the byte-level step turned
# the crash into a different invariant, its output is dropped and the
# original crash is minimized. OUT is never overwritten. CRASH may also be
# a text repro (the byte step is then skipped).
#
#   --rules NAME     rules preset the crash was found under (default:
#                    $SPTEFUZZ_RULES, else the default preset)
#   --engine E       libfuzzer (default), afl, or none (semantic step only)
#   --fuzzer BIN     the fuzz target (default build/libfuzzer/fuzz/sptefuzz_fuzzer;
#                    for afl: build/afl/fuzz/sptefuzz_fuzzer)
#   --sptefuzz BIN   the sptefuzz tool (default: the first of build/libfuzzer,
#                    build/release, build/debug that has repro/sptefuzz)
#   --byte-time S    seconds for the byte step (default 5): the semantic step
#                    does the real work in milliseconds, the byte step only
#                    trims what the test case never reads
#
# Exit status: 1 a finding was minimized into OUT, 0 CRASH has no finding
# under the rules (nothing written), 2 bad usage or a missing tool.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "ERROR: minimize.sh: $*" >&2; exit 2; }
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }

rules="${SPTEFUZZ_RULES:-}" engine=libfuzzer fuzzer="" tool="" byte_time=5 crash="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rules) need_arg "$@"; rules="$2"; shift 2 ;;
    --engine) need_arg "$@"; engine="$2"; shift 2 ;;
    --fuzzer) need_arg "$@"; fuzzer="$2"; shift 2 ;;
    --sptefuzz) need_arg "$@"; tool="$2"; shift 2 ;;
    --byte-time) need_arg "$@"; byte_time="$2"; shift 2 ;;
    -o|--out) need_arg "$@"; out="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown flag '$1': expected --rules, --engine, --fuzzer, --sptefuzz, --byte-time, -o (see --help)" ;;
    *) [ -z "$crash" ] || die "expected one CRASH file, got '$crash' and '$1'"; crash="$1"; shift ;;
  esac
done
[ -n "$crash" ] || die "expected a CRASH file (see --help)"
[ -n "$out" ] || die "expected -o OUT: where to write the minimized text repro"
[ -f "$crash" ] || die "$crash: no such file"
[ ! -e "$out" ] || die "-o $out already exists; it is never overwritten"
case "$engine" in libfuzzer|afl|none) ;; *) die "--engine '$engine': expected libfuzzer, afl or none" ;; esac
[[ "$byte_time" =~ ^[1-9][0-9]*$ ]] || die "--byte-time '$byte_time': expected a positive number of seconds"

if [ -z "$tool" ]; then
  for d in libfuzzer release debug; do
    if [ -x "$root/build/$d/repro/sptefuzz" ]; then tool="$root/build/$d/repro/sptefuzz"; break; fi
  done
  [ -n "$tool" ] || die "no sptefuzz tool found: build one (scripts/build.sh release) or pass --sptefuzz BIN"
fi
[ -x "$tool" ] || die "--sptefuzz $tool: not an executable"

start_ns=$(date +%s%N)
is_text=0
if head -c 14 "$crash" | grep -qE '^(#|sptefuzz-repro)'; then is_text=1; fi
rules_flag=()
if [ "$is_text" = 0 ]; then
  if [ -z "$rules" ]; then rules="$("$tool" rules | sed -n 's/^default preset: //p')"; fi
  rules_flag=(--rules "$rules")
fi

# The primary invariant of a file under the rules, or "" if it has no finding.
invariant_of() {
  "$tool" replay --quiet "${rules_flag[@]}" "$1" 2>/dev/null |
    sed -n 's/^SUMMARY: sptefuzz: \([a-z-]*\) .*/\1/p' | head -1
}
want="$(invariant_of "$crash")"
if [ -z "$want" ]; then
  # Let sptefuzz say why (bad file, or no finding: exit 0).
  "$tool" minimize --quiet "${rules_flag[@]}" "$crash" -o "$out"
  exit $?
fi
echo "INFO: minimize.sh: $crash violates $want under rules ${rules:-(from the file)}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
input="$crash"
if [ "$is_text" = 0 ] && [ "$engine" != none ]; then
  if [ "$engine" = libfuzzer ]; then
    [ -n "$fuzzer" ] || fuzzer="$root/build/libfuzzer/fuzz/sptefuzz_fuzzer"
    [ -x "$fuzzer" ] || die "--fuzzer $fuzzer: not an executable (scripts/build.sh libfuzzer, or --engine none)"
    # Each step of libFuzzer's crash-minimization loop is a child process
    # that gets 1 s; the whole loop gets --byte-time (its last output stays
    # usable when it is cut off). No stack symbolization: only the crash matters.
    SPTEFUZZ_RULES="$rules" ASAN_OPTIONS="${ASAN_OPTIONS:-symbolize=0}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-symbolize=0}" \
      timeout "$byte_time" "$fuzzer" -minimize_crash=1 -max_total_time=1 -exact_artifact_path="$tmp/crash.min" \
      "$crash" >"$tmp/engine.log" 2>&1
  else
    [ -n "$fuzzer" ] || fuzzer="$root/build/afl/fuzz/sptefuzz_fuzzer"
    [ -x "$fuzzer" ] || die "--fuzzer $fuzzer: not an executable (scripts/fuzz.sh --engine afl builds it, or --engine none)"
    command -v afl-tmin >/dev/null || die "afl-tmin is not installed (scripts/setup.sh)"
    SPTEFUZZ_RULES="$rules" AFL_QUIET=1 timeout "$byte_time" afl-tmin -i "$crash" -o "$tmp/crash.min" -- "$fuzzer" @@ \
      >"$tmp/engine.log" 2>&1
  fi
  if [ -s "$tmp/crash.min" ]; then
    got="$(invariant_of "$tmp/crash.min")"
    if [ "$got" = "$want" ]; then
      echo "INFO: minimize.sh: $engine shrank the bytes from $(wc -c <"$crash") to $(wc -c <"$tmp/crash.min")"
      input="$tmp/crash.min"
    else
      echo "WARNING: minimize.sh: the $engine byte minimization gives '${got:-no finding}' instead of $want; using the original crash"
    fi
  else
    echo "WARNING: minimize.sh: $engine wrote no minimized input (log: see below); using the original crash"
    tail -n 5 "$tmp/engine.log" | sed 's/^/    /'
  fi
fi

"$tool" minimize --quiet "${rules_flag[@]}" "$input" -o "$out"
rc=$?
end_ns=$(date +%s%N)
if [ "$rc" = 1 ]; then
  # The provenance comment names the original crash, not a temporary file.
  if [ "$input" != "$crash" ]; then
    sed -i "s|from raw fuzz input crash.min (|from raw fuzz input $(basename "$crash") ($engine-minimized, |" "$out"
  fi
  printf 'INFO: minimize.sh: wrote %s in %d ms\n' "$out" $(((end_ns - start_ns) / 1000000))
fi
exit "$rc"
