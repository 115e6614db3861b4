#!/usr/bin/env bash
# Usage: libfuzzer_smoke.sh FUZZER SEEDS_DIR SECONDS
# A short libFuzzer run on the default preset (linux-3.6, expected clean)
# from a copy of the seeds in a temporary directory: it must find nothing.
set -u
fuzzer="$1" seeds="$2" secs="$3"
work="$(mktemp -d)"
mkdir -p "$work/corpus" "$work/findings"
cp "$seeds"/* "$work/corpus/"
SPTEFUZZ_RULES= "$fuzzer" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/findings/" \
  "$work/corpus" >"$work/log" 2>&1
rc=$?
tail -n 25 "$work/log"
if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/findings")" ]; then
  grep -E "^(ERROR|SUMMARY|FATAL)" "$work/log"
  echo "FAIL: libFuzzer exited $rc or saved a finding on the default preset; kept in $work"
  exit 1
fi
grep -q "^Done [0-9]* runs" "$work/log" || { echo "FAIL: libFuzzer did not finish its run; log in $work"; exit 1; }
rm -rf "$work"
echo "PASS"
