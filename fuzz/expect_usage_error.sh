#!/usr/bin/env bash
# Usage: expect_usage_error.sh DRIVER INPUT
# Passes when bad settings in the environment give a clear error and exit 2.
set -u
driver="$1" input="$2"
fail() { echo "FAIL: $*"; exit 1; }
check() {  # VAR=VALUE EXPECTED_TEXT
  out="$(env "$1" "$driver" "$input" 2>&1)"; rc=$?
  echo "$1 -> rc=$rc: $out" | head -3
  [ "$rc" -eq 2 ] || fail "$1: expected exit 2, got $rc"
  grep -q "^ERROR: sptefuzz_fuzzer: .*$2" <<<"$out" || fail "$1: no clear ERROR line mentioning '$2'"
}
check SPTEFUZZ_RULES=no-such-preset "unknown rules preset 'no-such-preset'.*expected one of"
check SPTEFUZZ_MUTATOR=maybe "expected on or off"
check SPTEFUZZ_CODEC_VERSION=7 "expected 1"
check SPTEFUZZ_ADVERSARIAL=yes "expected on or off"
check SPTEFUZZ_REUSE=maybe "SPTEFUZZ_REUSE='maybe': expected on, off or check"
check SPTEFUZZ_FEEDBACK=yes "SPTEFUZZ_FEEDBACK='yes': expected on or off"
# The counters are visible to libFuzzer only in sptefuzz_fuzzer_fb.
check SPTEFUZZ_FEEDBACK=on "SPTEFUZZ_FEEDBACK=on needs the target with interleaving counters.*sptefuzz_fuzzer_fb"
out="$("$driver" /nonexistent/input 2>&1)"; rc=$?
[ "$rc" -eq 2 ] || fail "missing input: expected exit 2, got $rc"
echo "PASS"
