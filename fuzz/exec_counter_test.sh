#!/usr/bin/env bash
# Usage: exec_counter_test.sh DRIVER SEEDS_DIR
# SPTEFUZZ_EXEC_COUNTER (fuzz/fuzz_env.h): the target adds one per input to
# an 8-byte shared counter file, across processes; a file that is not such a
# counter is refused with exit 2 and left as it was.
set -u
driver="$1" seeds="$2"
fail() { echo "FAIL: $*"; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
n="$(find "$seeds" -maxdepth 1 -type f | wc -l)"
[ "$n" -gt 0 ] || fail "no seeds in $seeds"
count() { od -An -tu8 -N8 "$1" | tr -d ' '; }
SPTEFUZZ_RULES= SPTEFUZZ_EXEC_COUNTER="$tmp/c" "$driver" "$seeds" >/dev/null 2>&1 || fail "driver failed over $seeds"
[ "$(stat -c %s "$tmp/c")" = 8 ] || fail "the counter file is not 8 bytes"
[ "$(count "$tmp/c")" = "$n" ] || fail "after one run over $n seeds the counter reads $(count "$tmp/c")"
# A second process continues the count (AFL++ forks a new process now and then).
SPTEFUZZ_RULES= SPTEFUZZ_EXEC_COUNTER="$tmp/c" "$driver" "$seeds" >/dev/null 2>&1 || fail "second driver run failed"
[ "$(count "$tmp/c")" = "$((2 * n))" ] || fail "after two runs the counter reads $(count "$tmp/c"), expected $((2 * n))"
# Not a counter: refused, untouched.
printf 'abc' >"$tmp/input"
out="$(SPTEFUZZ_EXEC_COUNTER="$tmp/input" "$driver" "$seeds" 2>&1)"; rc=$?
[ "$rc" -eq 2 ] || fail "a 3-byte file as counter: expected exit 2, got $rc"
grep -q "^ERROR: sptefuzz_fuzzer: SPTEFUZZ_EXEC_COUNTER='$tmp/input': it holds 3 bytes: expected a new file or an 8-byte counter" <<<"$out" \
  || fail "no clear error for a 3-byte file: $out"
[ "$(cat "$tmp/input")" = abc ] || fail "the 3-byte file was changed"
out="$(SPTEFUZZ_EXEC_COUNTER="$tmp/no/such/dir/c" "$driver" "$seeds" 2>&1)"; rc=$?
[ "$rc" -eq 2 ] || fail "a counter in a missing directory: expected exit 2, got $rc"
grep -q "^ERROR: sptefuzz_fuzzer: SPTEFUZZ_EXEC_COUNTER=.*cannot open or create it" <<<"$out" || fail "no clear error: $out"
out="$(SPTEFUZZ_EXEC_COUNTER="$tmp" "$driver" "$seeds" 2>&1)"; rc=$?
[ "$rc" -eq 2 ] || fail "a directory as counter: expected exit 2, got $rc"
echo "PASS: $n seeds counted, twice; bad counter files refused"
