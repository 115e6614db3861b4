#!/usr/bin/env bash
# Usage: tsan_check.sh SPTEFUZZ REPRO expect-race|expect-clean
# Replays REPRO with a TSan build of sptefuzz in a subprocess and checks
# whether ThreadSanitizer reported a data race between two virtual threads.
set -u
bin="$1"; repro="$2"; mode="$3"
out=$(TSAN_OPTIONS="halt_on_error=0 exitcode=66" "$bin" replay "$repro" 2>&1)
rc=$?
case "$mode" in
  expect-race)
    echo "$out" | grep -q "WARNING: ThreadSanitizer: data race" || { echo "FAIL: no TSan data race report"; echo "$out" | tail -20; exit 1; }
    # Both virtual threads' stacks: the locked write and the unlocked read.
    echo "$out" | grep -q "Previous write of size 8" || { echo "FAIL: the report lacks the other access"; exit 1; }
    echo "$out" | grep -q "GuardedStore" || { echo "FAIL: the writer's stack is missing"; exit 1; }
    echo "$out" | grep -q "Model::Age" || { echo "FAIL: the unlocked reader's stack is missing"; exit 1; }
    echo "$out" | grep -Eq "Thread T[0-9]+ 'vthread-[0-9]'" || { echo "FAIL: the racing threads are not named virtual threads"; exit 1; }
    echo "PASS: TSan reported the planted race between two virtual threads (exit $rc)"
    ;;
  expect-clean)
    if echo "$out" | grep -q "ThreadSanitizer"; then echo "FAIL: TSan reported something:"; echo "$out" | grep -A20 ThreadSanitizer | head -40; exit 1; fi
    [ "$rc" = 0 ] || { echo "FAIL: exit status $rc"; echo "$out" | tail; exit 1; }
    echo "PASS: no TSan report"
    ;;
  *) echo "usage: tsan_check.sh SPTEFUZZ REPRO expect-race|expect-clean" >&2; exit 2 ;;
esac
