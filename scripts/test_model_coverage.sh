#!/usr/bin/env bash
# Usage: scripts/test_model_coverage.sh TOOL WORKDIR
#
# The ctest of scripts/model_coverage.py (label coverage): replays the seeds
# and regressions with TOOL (`sptefuzz`), builds the model coverage table and
# checks it: every label of core/labels.h has a row, the seeds reach the guest
# page walk (H4) and set the D bit, and a trace with no step reaches nothing.
set -euo pipefail
[ $# -eq 2 ] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
tool="$1" work="$2"
src="$(cd "$(dirname "$0")/.." && pwd)"
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work"; mkdir -p "$work"
for f in "$src"/corpus/seeds/* "$src"/corpus/regressions/*.repro; do
  "$tool" replay "$f" >>"$work/traces.txt" 2>&1 || true
done
mc() { python3 "$src/scripts/model_coverage.py" --labels "$src/core/labels.h" --spte "$src/core/spte.cc" "$@"; }
mc "$work/traces.txt" >"$work/model.md"
head -n 3 "$work/model.md"
nlabels="$(grep -c '^  X(k' "$src/core/labels.h")"
rows="$(sed -n '/^## Step labels/,/^## spte/p' "$work/model.md" | grep -c '^| [^-l]' || true)"
[ "$rows" -eq "$nlabels" ] || fail "$rows label rows for $nlabels labels in core/labels.h"
grep -qE '^\| H4 \| [0-9]+ \|$' "$work/model.md" || fail "H4 not reached by the seeds"
grep -qE '^\| D \| [0-9]+ \|' "$work/model.md" || fail "the D bit never set by the seeds"
grep -qE 'Step labels reached: [1-9][0-9]* of [0-9]+' "$work/model.md" || fail "no summary line"
: >"$work/empty.txt"
mc "$work/empty.txt" >"$work/empty.md"
grep -q 'Step labels reached: 0 of' "$work/empty.md" || fail "an empty trace reaches labels"
set +e; mc >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "model_coverage.py without arguments exited $rc, expected 2"
echo "PASS"
