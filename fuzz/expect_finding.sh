#!/usr/bin/env bash
# Usage: expect_finding.sh DRIVER INPUT PRESET INVARIANT
# Passes when the fuzz target, run on INPUT under SPTEFUZZ_RULES=PRESET,
# aborts with the stable report naming INVARIANT and a replay command.
set -u
driver="$1" input="$2" preset="$3" inv="$4"
out="$(SPTEFUZZ_RULES="$preset" "$driver" "$input" 2>&1)"
rc=$?
echo "$out"
fail() { echo "FAIL: $*"; exit 1; }
[ "$rc" -ne 0 ] || fail "the driver exited 0 on a known finding"
[ "$rc" -ne 2 ] || fail "the driver reported a usage error"
grep -q "^ERROR: sptefuzz: invariant violated: $inv\$" <<<"$out" || fail "no 'invariant violated: $inv' line"
grep -q "^SUMMARY: sptefuzz: $inv .* under rules $preset\$" <<<"$out" || fail "no SUMMARY line"
grep -q "^INFO: replay with: sptefuzz replay " <<<"$out" || fail "no replay command"
grep -q "^expect violation $inv\$" <<<"$out" || fail "no text repro with the expected verdict"
echo "PASS"
