#!/usr/bin/env bash
# Usage: engine_defaults_test.sh FUZZER
# The libFuzzer target adds its engine defaults (-entropic=0
# -reduce_inputs=0, fuzz/sptefuzz_fuzzer.cc) to the command line, and a flag
# given on the command line (before -ignore_remaining_args=1) wins over its
# default.
set -u
fuzzer="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
run() {  # FLAGS...: 50 inputs from an empty corpus; the log in $work/log
  rm -rf "$work/c" && mkdir -p "$work/c"
  local rc=0
  SPTEFUZZ_RULES= "$fuzzer" -runs=50 "$@" "$work/c" >"$work/log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$work/log"; echo "FAIL: $fuzzer $* exited $rc"; failures=$((failures + 1)); }
}
expect() {  # yes|no PATTERN WHAT
  if grep -q -- "$2" "$work/log"; then found=yes; else found=no; fi
  local want=present; [ "$1" = yes ] || want=absent
  [ "$found" = "$1" ] || { echo "FAIL: $3: expected '$2' to be $want in the log"; failures=$((failures + 1)); }
}
run
expect yes "^INFO: sptefuzz_fuzzer: libFuzzer defaults -entropic=0 -reduce_inputs=0 " "both defaults announced"
expect no "entropic power schedule" "entropic off by default"
run -entropic=1
expect yes "^INFO: sptefuzz_fuzzer: libFuzzer defaults -reduce_inputs=0 " "only the default not given"
expect yes "entropic power schedule" "-entropic=1 on the command line wins"
run -entropic=1 -reduce_inputs=1
expect no "libFuzzer defaults" "no defaults when both flags are given"
# A tuning flag of the power schedule counts as asking for it.
run -entropic_scale_per_exec_time=1
expect yes "^INFO: sptefuzz_fuzzer: libFuzzer defaults -reduce_inputs=0 " "-entropic_* counts as -entropic"
expect yes "entropic power schedule" "-entropic_* keeps the power schedule on"
# Flags after -ignore_remaining_args=1 are the target's, not libFuzzer's:
# they neither stop a default nor come before it.
run -ignore_remaining_args=1 -entropic=1
expect yes "^INFO: sptefuzz_fuzzer: libFuzzer defaults -entropic=0 -reduce_inputs=0 " "target's arguments ignored"
expect no "entropic power schedule" "the defaults apply before -ignore_remaining_args=1"
[ "$failures" -eq 0 ] || { echo "FAIL: $failures check(s)"; exit 1; }
echo "PASS"
