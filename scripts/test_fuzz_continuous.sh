#!/usr/bin/env bash
# Usage: scripts/test_fuzz_continuous.sh FUZZER TOOL WORKDIR
#
# The ctest of scripts/fuzz-continuous.sh (label continuous): one short round
# on the buggy preset v5-patch from the S1 seed, then a restart with an
# unreadable corpus entry planted. Checks: one summary entry per distinct
# (invariant, signature), lost-page-dirty among them, every entry with a
# minimized repro that replays with its expected verdict, more crashes than
# entries (deduplication happened or one crash per bug), the restart keeps
# every corpus input and finding and reports the unreadable entry; bad flags
# exit 2.
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
fuzzer="$1" tool="$2" work="$3"
script="$(cd "$(dirname "$0")" && pwd)/fuzz-continuous.sh"
src="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$work"; mkdir -p "$work/seeds"
cp "$src/corpus/seeds/S1.bin" "$work/seeds/"
fail() { echo "FAIL: $*"; exit 1; }
run() { "$script" --rules v5-patch --seconds 4 --rounds 1 --jobs 1 --dir "$work/state" --seeds "$work/seeds" \
          --fuzzer "$fuzzer" --tool "$tool" --max-crashes-per-bug 2 "$@"; }

set +e; "$script" --rounds 0 >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "--rounds 0 exited $rc, expected 2"
set +e; "$script" --frobnicate >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "--frobnicate exited $rc, expected 2"

set +e; run >"$work/run1.log" 2>&1; rc=$?; set -e
cat "$work/run1.log"
[ "$rc" -eq 1 ] || fail "round on v5-patch exited $rc, expected 1 (findings)"
summary="$work/state/findings/SUMMARY.md"
[ -s "$summary" ] || fail "no $summary"
check_summary() {
  local entries sigs dup
  entries="$(grep -c '^## [0-9]*\. ' "$summary" || true)"
  [ "$entries" -ge 1 ] || fail "no entry in the summary"
  sigs="$(cat "$work"/state/findings/*/signature | sort)"
  [ "$(wc -l <<<"$sigs")" -eq "$entries" ] || fail "$entries summary entries for $(wc -l <<<"$sigs") signatures"
  dup="$(uniq -d <<<"$sigs")"
  [ -z "$dup" ] || fail "duplicate signature: $dup"
  grep -qE '^## [0-9]+\. .*lost-page-dirty' "$summary" || fail "lost-page-dirty (B1, S1's bug) is not in the summary"
  # B1 is blamed on its rule: the volatile-bits predicate that 3.6 fixed.
  grep -qE '^## [0-9]+\. fixed by `[^`]*volatile=' "$summary" || fail "no entry blames the volatile rule (B1)"
  local keys
  keys="$(sed -n 's/^## [0-9]*\. fixed by `\([^`]*\)`.*/\1/p' "$summary" | sort)"
  [ -z "$(uniq -d <<<"$keys")" ] || fail "two entries blame the same rule: $(uniq -d <<<"$keys")"
  local d seen=0
  for d in "$work"/state/findings/*/; do
    [ -f "$d/signature" ] || continue
    "$tool" replay --quiet --expect "$d/minimized.repro" >/dev/null 2>&1 ||
      fail "$d/minimized.repro does not replay with its expected verdict"
    grep -q '^expect violation ' "$d/minimized.repro" || fail "$d/minimized.repro has no expect line"
    [ "$(ls "$d/crashes" | wc -l)" -le 2 ] || fail "more than --max-crashes-per-bug crash files in $d"
    seen=$((seen + $(wc -l <"$d/seen")))
  done
  [ "$seen" -ge "$entries" ] || fail "$seen crashes for $entries entries"
  echo "summary: $entries entries for $seen crashes"
}
check_summary
before="$(ls "$work/state/corpus" | sort)"
findings_before="$(cd "$work/state/findings" && ls -d */ | sort)"

# Restart on the same state, with an unreadable entry (a dangling symlink) and
# a half-done swap (corpus.bak left over) planted.
ln -s "$work/nowhere" "$work/state/corpus/dangling"
cp -al "$work/state/corpus" "$work/state/corpus.bak"
mv "$work/state/corpus" "$work/state/corpus.gone"
set +e; run >"$work/run2.log" 2>&1; rc=$?; set -e
cat "$work/run2.log"
[ "$rc" -eq 1 ] || fail "restart exited $rc, expected 1"
grep -q "restoring the corpus from corpus.bak" "$work/run2.log" || fail "the corpus was not restored from corpus.bak"
grep -q "unreadable corpus entry .*dangling" "$work/run2.log" || fail "the dangling entry was not reported"
grep -q "Unreadable corpus entries" "$summary" || fail "the summary does not mention the unreadable entry"
after="$(ls "$work/state/corpus" | sort)"
missing="$(comm -23 <(grep -vx dangling <<<"$before") <(echo "$after"))"
[ -z "$missing" ] || fail "corpus inputs lost over the restart: $missing"
findings_after="$(cd "$work/state/findings" && ls -d */ | sort)"
[ -z "$(comm -23 <(echo "$findings_before") <(echo "$findings_after"))" ] || fail "findings lost over the restart"
check_summary
echo "PASS"
