#!/usr/bin/env bash
# Usage: scripts/test_coverage.sh WORKDIR
#
# The ctest of scripts/coverage.sh (label coverage): builds with coverage in
# WORKDIR/build (kept, so reruns are incremental), writes the report into a
# fresh WORKDIR/report and checks the HTML index, the text summary and the
# model coverage table; a non-empty --out is refused with exit status 2.
set -euo pipefail
[ $# -eq 1 ] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
work="$1"
here="$(cd "$(dirname "$0")" && pwd)"
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work/report"; mkdir -p "$work/build"
"$here/coverage.sh" --build-dir "$work/build" --out "$work/report" || fail "coverage.sh exited $?"
[ -s "$work/report/html/index.html" ] || fail "no html/index.html"
grep -q '^TOTAL' "$work/report/summary.txt" || fail "no TOTAL line in summary.txt"
grep -qE 'Step labels reached: [1-9][0-9]* of' "$work/report/model-coverage.md" || fail "no model coverage"
grep -q 'core/model.cc\|core/actors.cc' "$work/report/summary.txt" || fail "the model's sources are not in the summary"
set +e; "$here/coverage.sh" --build-dir "$work/build" --out "$work/report" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "a non-empty --out gave exit status $rc, expected 2"
echo "PASS"
