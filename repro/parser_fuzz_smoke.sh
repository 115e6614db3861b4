#!/usr/bin/env bash
# Usage: parser_fuzz_smoke.sh FUZZER DICT SEEDS_DIR SECONDS WORKDIR
# A short libFuzzer run of repro_parser_fuzzer (ctest label smoke). New
# inputs go to WORKDIR, never into the seed directory. Exit 0 when the run
# ends without a crash.
set -euo pipefail
if [ $# -ne 5 ]; then
  echo "ERROR: parser_fuzz_smoke.sh: expected FUZZER DICT SEEDS_DIR SECONDS WORKDIR" >&2
  exit 2
fi
fuzzer="$1" dict="$2" seeds="$3" secs="$4" work="$5"
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
if ! "$fuzzer" -max_total_time="$secs" -dict="$dict" -max_len=4096 -print_final_stats=1 \
     -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$work/log" 2>&1; then
  tail -n 60 "$work/log"
  echo "ERROR: parser_fuzz_smoke.sh: $fuzzer found a crash; inputs are in $work/artifacts" >&2
  exit 1
fi
grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)" "$work/log" || true
echo "INFO: parser_fuzz_smoke.sh: ${secs}s without a crash"
