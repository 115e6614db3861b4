#!/usr/bin/env bash
# Usage: cli_test.sh SPTEFUZZ SOURCE_DIR WORK_DIR CASE
# End-to-end checks of `sptefuzz replay|convert|minimize`: exit status and
# the lines printed. One CASE per ctest entry; see the case list at the end.
set -uo pipefail
if [ $# -ne 4 ]; then
  echo "ERROR: cli_test.sh: expected SPTEFUZZ SOURCE_DIR WORK_DIR CASE" >&2
  exit 2
fi
sf="$1" src="$2" work="$3/$4" case="$4"
reg="$src/corpus/regressions"
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 2
unset SPTEFUZZ_RULES
failures=0

# run EXPECTED_RC CMD...: runs CMD, stdout+stderr to ./out, checks the status.
run() {
  local want="$1"
  shift
  "$@" >out 2>&1
  local rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL: '$*' exited $rc, expected $want; output:"
    sed 's/^/    /' out | head -40
    failures=$((failures + 1))
  fi
}
# has TEXT: the last run printed TEXT (fixed string).
has() {
  if ! grep -qF -- "$1" out; then
    echo "FAIL: expected the output to contain: $1"
    sed 's/^/    /' out | head -40
    failures=$((failures + 1))
  fi
}
hasnt() {
  if grep -qF -- "$1" out; then
    echo "FAIL: expected the output not to contain: $1"
    failures=$((failures + 1))
  fi
}
hash_of() { grep -o 'trace hash [0-9a-f]*' out | head -1; }

case "$case" in
  replay_verdicts)
    run 0 "$sf" replay "$reg/S1-v5-patch.repro"
    has "SUMMARY: sptefuzz: lost-page-dirty (I2) at step 12 under rules v5-patch"
    has "ERROR: sptefuzz: invariant violated: lost-page-dirty"
    has "INFO: replay with: sptefuzz replay $reg/S1-v5-patch.repro"
    has "the verdict is the expected 'violation lost-page-dirty'"
    has ">>   12  thread 0 (kvm)    WB"
    has "caused by step"
    run 0 "$sf" replay --expect --quiet "$reg/S1-linux-3.6.repro"
    has "verdict: ok (14 steps)"
    hasnt "--- trace ---"
    # A finding the file does not expect.
    grep -v '^expect' "$reg/S1-v5-patch.repro" >noexpect.repro
    run 1 "$sf" replay --quiet noexpect.repro
    has "SUMMARY: sptefuzz: lost-page-dirty"
    sed 's/^expect .*/expect ok/' "$reg/S1-v5-patch.repro" >expect-ok.repro
    run 1 "$sf" replay --quiet expect-ok.repro
    has "WARNING: sptefuzz replay: verdict mismatch: expect-ok.repro: expected 'ok' but the verdict is 'violation lost-page-dirty'"
    run 1 "$sf" replay --quiet --expect expect-ok.repro
    has "ERROR: sptefuzz replay: verdict mismatch: expect-ok.repro: expected 'ok'"
    sed 's/^expect .*/expect violation lost-page-dirty/' "$reg/S1-linux-3.6.repro" >expect-bad.repro
    run 0 "$sf" replay --quiet expect-bad.repro
    has "WARNING: sptefuzz replay: verdict mismatch"
    run 1 "$sf" replay --quiet --expect expect-bad.repro
    has "expected 'violation lost-page-dirty' but the verdict is 'ok'"
    sed 's/^expect .*/expect violation flush-placement/' "$reg/S1-v5-patch.repro" >other.repro
    run 1 "$sf" replay --quiet --expect other.repro
    has "expected 'violation flush-placement' but the verdict is 'violation lost-page-dirty'"
    # The example of repro/README.md replays as it says.
    awk '/^```$/{f=!f; next} f' "$src/repro/README.md" | sed -n '1,/^expect /p' >readme.repro
    run 0 "$sf" replay --expect --quiet readme.repro
    # Several files: the worst status.
    run 1 "$sf" replay --quiet "$reg/S1-linux-3.6.repro" noexpect.repro
    has "INFO: sptefuzz replay: 2 files, exit status 1"
    ;;
  replay_bad_input)
    run 2 "$sf" replay
    has "ERROR: sptefuzz replay: expected at least one FILE"
    run 2 "$sf" replay missing.repro
    has "ERROR: sptefuzz replay: missing.repro: no such file"
    run 2 "$sf" replay .
    has "ERROR: sptefuzz replay: .: not a regular file"
    printf 'sptefuzz-repro 1\nrules v5-patch\nconfig vcpus=9\n' >bad.repro
    run 2 "$sf" replay bad.repro
    has "ERROR: sptefuzz replay: bad.repro:3:14: found '9', expected a number of vCPUs, 1..3"
    printf '# only a comment\n' >comment.repro
    run 2 "$sf" replay comment.repro
    has "comment.repro:2:1: found end of file, expected 'sptefuzz-repro 1'"
    : >empty.repro
    run 2 "$sf" replay empty.repro
    has "empty.repro:1:1: found end of file, expected 'sptefuzz-repro 1'"
    printf '\n\nsptefuzz-repro 1\n' >blank-first
    run 2 "$sf" replay --format text blank-first
    has "blank-first:4:1: found end of file, expected 'rules'"
    run 2 "$sf" replay --frobnicate "$reg/S1-v5-patch.repro"
    has "unknown flag '--frobnicate'"
    run 2 "$sf" replay --format yaml "$reg/S1-v5-patch.repro"
    has "--format yaml: expected auto, text or bytes"
    run 2 "$sf" replay --rules v5-patch "$reg/S1-v5-patch.repro"
    has "--rules applies to raw fuzz inputs only"
    run 2 "$sf" replay --html x.html "$reg/S1-v5-patch.repro" "$reg/S1-linux-3.6.repro"
    has "--html takes exactly one FILE"
    run 2 "$sf" replay --step-limit 5 "$reg/S1-v5-patch.repro"
    has "flag --step-limit: expected an integer in [100, 1000000], got '5'"
    # A bad file among good ones: the others are still replayed, status 2.
    run 2 "$sf" replay --quiet bad.repro "$reg/S1-linux-3.6.repro"
    has "verdict: ok (14 steps)"
    ;;
  replay_html)
    run 0 "$sf" replay --quiet --html s1.html "$reg/S1-v5-patch.repro"
    has "INFO: sptefuzz replay: wrote s1.html"
    [ -s s1.html ] || { echo "FAIL: s1.html not written"; failures=$((failures + 1)); }
    grep -q 'class="viol"' s1.html || { echo "FAIL: no highlighted violation in s1.html"; failures=$((failures + 1)); }
    if grep -qE 'https?:|<script| src=' s1.html; then echo "FAIL: s1.html is not self-contained"; failures=$((failures + 1)); fi
    cp s1.html before.html
    run 2 "$sf" replay --quiet --html s1.html "$reg/S1-v5-patch.repro"
    has "--html s1.html already exists; it is never overwritten"
    cmp -s s1.html before.html || { echo "FAIL: s1.html was changed"; failures=$((failures + 1)); }
    ;;
  convert_round_trip)
    run 0 "$sf" replay --quiet "$reg/S1-linux-3.6.repro"
    text_hash_ok="$(hash_of)"
    run 0 "$sf" convert "$reg/S1-v5-patch.repro" -o s1.bin
    has "(text repro) -> s1.bin (raw fuzz input): same trace"
    has "replay with \`sptefuzz replay s1.bin --rules v5-patch\`"
    run 0 "$sf" replay --quiet "$reg/S1-v5-patch.repro"
    text_hash="$(hash_of)"
    run 1 "$sf" replay --quiet s1.bin --rules v5-patch
    has "raw fuzz input, rules v5-patch"
    has "SUMMARY: sptefuzz: lost-page-dirty (I2) at step 12 under rules v5-patch"
    has "INFO: replay with: sptefuzz replay s1.bin --rules v5-patch"
    [ "$(hash_of)" = "$text_hash" ] || { echo "FAIL: bytes replay $(hash_of) != text $text_hash"; failures=$((failures + 1)); }
    # The rules of a raw input: --rules, else SPTEFUZZ_RULES, else the default.
    SPTEFUZZ_RULES=v5-patch run 1 "$sf" replay --quiet s1.bin
    [ "$(hash_of)" = "$text_hash" ] || { echo "FAIL: SPTEFUZZ_RULES replay differs"; failures=$((failures + 1)); }
    run 0 "$sf" replay --quiet s1.bin
    has "rules linux-6.15"
    run 0 "$sf" replay --quiet s1.bin --rules linux-3.6
    [ "$(hash_of)" = "$text_hash_ok" ] || { echo "FAIL: linux-3.6 replay differs from S1-linux-3.6"; failures=$((failures + 1)); }
    SPTEFUZZ_RULES=linux-9 run 2 "$sf" replay --quiet s1.bin
    has "SPTEFUZZ_RULES=linux-9: unknown rules preset"
    run 2 "$sf" replay --quiet --expect --rules v5-patch s1.bin
    has "a raw fuzz input has none"
    # And back to text: same trace, the verdict as expect.
    run 0 "$sf" convert s1.bin --rules v5-patch -o back.repro
    has "(raw fuzz input) -> back.repro (text repro): same trace"
    grep -qx 'expect violation lost-page-dirty' back.repro || { echo "FAIL: no expect line in back.repro"; failures=$((failures + 1)); }
    run 0 "$sf" replay --quiet --expect back.repro
    [ "$(hash_of)" = "$text_hash" ] || { echo "FAIL: back.repro replays differently"; failures=$((failures + 1)); }
    # Never overwritten; knobs have no byte form.
    run 2 "$sf" convert "$reg/S1-v5-patch.repro" -o s1.bin
    has "-o s1.bin already exists; it is never overwritten"
    run 2 "$sf" convert "$reg/S5-linux-3.6-harvest-flush-after-unlock.repro" -o s5.bin
    has "has 'knob' overrides, which a raw fuzz input cannot carry"
    [ ! -e s5.bin ] || { echo "FAIL: s5.bin written"; failures=$((failures + 1)); }
    run 2 "$sf" convert "$reg/S1-v5-patch.repro"
    has "expected -o OUT"
    ;;
  minimize)
    cp "$src/repro/testdata/bloated_s1.repro" found.repro
    run 1 "$sf" minimize found.repro -o min.repro
    has "SUMMARY: sptefuzz: lost-page-dirty (I2) at step 12 under rules v5-patch"
    has "INFO: replay with: sptefuzz replay min.repro"
    has "INFO: sptefuzz minimize: found.repro: 23 steps, 4 threads, 8 ops, 6 schedule segments, vcpus=2 gfns=2 -> 12 steps, 2 threads, 2 ops, 2 schedule segments, vcpus=1 gfns=1"
    has "schedule: 0 through Z1; 1 to end"
    grep -q '^# minimized by `sptefuzz minimize` from found.repro' min.repro || { echo "FAIL: no provenance comment"; failures=$((failures + 1)); }
    grep -qx 'expect violation lost-page-dirty' min.repro || { echo "FAIL: no expect line"; failures=$((failures + 1)); }
    run 0 "$sf" replay --expect --quiet min.repro
    # Canonical: minimizing the result again changes nothing but the comment.
    run 1 "$sf" minimize --quiet min.repro -o min2.repro
    diff <(grep -v '^#' min.repro) <(grep -v '^#' min2.repro) >/dev/null || { echo "FAIL: not a fixpoint"; failures=$((failures + 1)); }
    run 2 "$sf" minimize found.repro -o min.repro
    has "-o min.repro already exists; it is never overwritten"
    # A file name with a newline still gives a one-line provenance comment.
    cp "$src/repro/testdata/bloated_s1.repro" "$(printf 'odd\nname.repro')"
    run 1 "$sf" minimize --quiet "$(printf 'odd\nname.repro')" -o odd-min.repro
    grep -q '^# minimized by `sptefuzz minimize` from odd?name.repro' odd-min.repro || { echo "FAIL: odd name comment"; failures=$((failures + 1)); }
    run 0 "$sf" replay --expect --quiet odd-min.repro
    run 0 "$sf" minimize "$reg/S1-linux-3.6.repro" -o none.repro
    has "no finding under rules linux-3.6 (verdict ok); nothing to minimize, nothing written"
    [ ! -e none.repro ] || { echo "FAIL: none.repro written"; failures=$((failures + 1)); }
    run 2 "$sf" minimize found.repro
    has "expected -o OUT"
    run 2 "$sf" minimize nothere.repro -o x.repro
    has "nothere.repro: no such file"
    # A raw fuzz input (when the byte codec is built in).
    [ "${SPTEFUZZ_HAVE_CODEC:-1}" = 1 ] || { echo "PASS: cli_test.sh $case (without raw inputs: no codec)"; exit "$((failures > 0))"; }
    run 0 "$sf" convert "$reg/S2-spec-v5-patch.repro" -o s2.bin
    run 1 "$sf" minimize --quiet --rules v5-patch s2.bin -o s2.repro
    has "stale-tlb-after-pt-protect"
    grep -q 'from raw fuzz input s2.bin' s2.repro || { echo "FAIL: no raw provenance"; failures=$((failures + 1)); }
    run 0 "$sf" replay --expect --quiet s2.repro
    ;;
  explore_finding)
    # A finding of explore is minimized before it is printed and written.
    run 1 "$sf" explore --rules v5-patch --seed 3 --runs 2000 --out found.repro
    has "INFO: replay with: sptefuzz replay found.repro"
    has "--- trace ---"
    grep -q '^# found by: sptefuzz explore --rules v5-patch --strategy random --seed 3' found.repro ||
      { echo "FAIL: no found-by comment"; failures=$((failures + 1)); }
    grep -q '^# minimized by sptefuzz minimize: ' found.repro || { echo "FAIL: not minimized"; failures=$((failures + 1)); }
    run 0 "$sf" replay --expect --quiet found.repro
    # Minimized: minimizing it again changes nothing but the comments.
    run 1 "$sf" minimize --quiet found.repro -o again.repro
    diff <(grep -v '^#' found.repro) <(grep -v '^#' again.repro) >/dev/null ||
      { echo "FAIL: explore's repro is not minimal"; failures=$((failures + 1)); }
    # --minimize off keeps the raw schedule; it still replays to the same verdict.
    run 1 "$sf" explore --rules v5-patch --seed 3 --runs 2000 --minimize off --quiet --out raw.repro
    grep -q '^# minimized' raw.repro && { echo "FAIL: raw.repro minimized"; failures=$((failures + 1)); }
    run 0 "$sf" replay --expect --quiet raw.repro
    run 2 "$sf" explore --rules v5-patch --seed 3 --runs 10 --minimize sometimes
    has "--minimize: expected on or off, got 'sometimes'"
    run 2 "$sf" explore --rules v5-patch --seed 3 --runs 10 --out found.repro
    has "already exists; it is never overwritten"
    # --switch 1000: uniform random scheduling; the report says how to
    # find it again, and that command finds it again.
    run 1 "$sf" explore --rules v5-patch --switch 1000 --seed 3 --runs 2000 --quiet --minimize off --out uniform.repro
    grep -q '^# found by: sptefuzz explore --rules v5-patch --strategy random --switch 1000 --seed 3, execution ' uniform.repro ||
      { echo "FAIL: no --switch in the found-by comment"; failures=$((failures + 1)); }
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >uniform1
    run 1 "$sf" explore --rules v5-patch --switch 1000 --seed 3 --runs 2000 --quiet --minimize off
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >uniform2
    { [ -s uniform1 ] && diff uniform1 uniform2 >/dev/null; } || { echo "FAIL: --switch 1000 is not deterministic"; failures=$((failures + 1)); }
    # It is a different search from the default mix of switch rates.
    run 1 "$sf" explore --rules v5-patch --seed 3 --runs 2000 --quiet --minimize off
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >mixed
    diff uniform1 mixed >/dev/null && { echo "FAIL: --switch 1000 changed nothing"; failures=$((failures + 1)); }
    run 2 "$sf" explore --rules v5-patch --switch 1001 --runs 10
    has "--switch '1001': expected 0..1000 or mixed"
    run 2 "$sf" explore --rules v5-patch --switch often --runs 10
    has "--switch 'often': expected 0..1000 or mixed"
    run 2 "$sf" explore --rules v5-patch --strategy pct --switch 500 --runs 10
    has "--switch applies to --strategy random and guided only"
    ;;
  explore_guided)
    # The guided search finds B5 and the finding replays; its report names
    # the search and the seed.
    run 1 "$sf" explore --rules b5-harvest-flush-after-unlock --strategy guided --seed 1 --runs 100000 --out b5.repro
    has "INFO: guided: "
    has "feedback on, pick rarity"
    grep -q '^# found by: sptefuzz explore --rules b5-harvest-flush-after-unlock --strategy guided --seed 1, execution ' b5.repro ||
      { echo "FAIL: no found-by comment"; failures=$((failures + 1)); }
    grep -q 'dassist=adversarial' b5.repro && { echo "FAIL: adversarial D-assist without --adversarial"; failures=$((failures + 1)); }
    run 0 "$sf" replay --expect --quiet b5.repro
    # --switch applies to the guided search's random schedules too: the
    # found-by command names it, and running that command finds the same.
    run 1 "$sf" explore --rules b5-harvest-flush-after-unlock --strategy guided --switch 1000 --seed 1 --runs 100000 --quiet --minimize off --out b5u.repro
    grep -q '^# found by: sptefuzz explore --rules b5-harvest-flush-after-unlock --strategy guided --switch 1000 --seed 1, execution ' b5u.repro ||
      { echo "FAIL: no --switch in the guided found-by comment"; failures=$((failures + 1)); }
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >gu1
    run 1 "$sf" explore --rules b5-harvest-flush-after-unlock --strategy guided --switch 1000 --seed 1 --runs 100000 --quiet --minimize off
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >gu2
    run 1 "$sf" explore --rules b5-harvest-flush-after-unlock --strategy guided --seed 1 --runs 100000 --quiet --minimize off
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >gm
    { [ -s gu1 ] && diff gu1 gu2 >/dev/null; } || { echo "FAIL: guided --switch 1000 is not deterministic"; failures=$((failures + 1)); }
    diff gu1 gm >/dev/null && { echo "FAIL: guided --switch 1000 changed nothing"; failures=$((failures + 1)); }
    # The same seed twice: the same execution count.
    run 1 "$sf" explore --rules b5-harvest-flush-after-unlock --strategy guided --seed 1 --runs 100000 --quiet --minimize off
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >first
    run 1 "$sf" explore --rules b5-harvest-flush-after-unlock --strategy guided --seed 1 --runs 100000 --quiet --minimize off
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >second
    { [ -s first ] && diff first second >/dev/null; } || { echo "FAIL: guided is not deterministic"; failures=$((failures + 1)); }
    # A correct preset: nothing found (a program mutation once turned on the
    # adversarial D-assist and reported lost-page-dirty here).
    run 0 "$sf" explore --rules linux-3.6 --strategy guided --seed 1 --runs 50000 --quiet
    run 0 "$sf" explore --rules linux-6.15 --strategy guided --feedback off --seed 2 --runs 3000
    has "INFO: no violation: 3000 executions"
    has "feedback off, pick uniform"
    run 2 "$sf" explore --strategy guided --feedback sometimes --runs 10
    has "--feedback: expected on or off, got 'sometimes'"
    run 2 "$sf" explore --strategy random --feedback on --runs 10
    has "--feedback needs --strategy guided"
    # --pick uniform: the ablation of the rarity pick, named in the report.
    run 1 "$sf" explore --rules b5-harvest-flush-after-unlock --strategy guided --pick uniform --seed 1 --runs 100000 --quiet --minimize off --out uniform.repro
    has "feedback on, pick uniform"
    grep -q '^# found by: sptefuzz explore --rules b5-harvest-flush-after-unlock --strategy guided --pick uniform --seed 1, execution ' uniform.repro ||
      { echo "FAIL: no --pick in the found-by comment"; failures=$((failures + 1)); }
    grep '^INFO: found after' out | sed 's/, [0-9.]* s$//' >uniform
    diff first uniform >/dev/null && { echo "FAIL: --pick uniform changed nothing"; failures=$((failures + 1)); }
    run 2 "$sf" explore --strategy guided --pick newest --runs 10
    has "--pick: expected rarity or uniform, got 'newest'"
    run 2 "$sf" explore --strategy random --pick rarity --runs 10
    has "--pick needs --strategy guided"
    run 2 "$sf" explore --strategy greedy --runs 10
    has "unknown strategy 'greedy': expected random, pct, dfs or guided"
    ;;
  blame)
    run 1 "$sf" blame "$reg/S1-v5-patch.repro"
    has "INFO: blame: $reg/S1-v5-patch.repro: lost-page-dirty (I2) under rules v5-patch, against linux-3.6: 4 knobs differ"
    has "BLAME: volatile pre-3.6 -> v3.6"
    hasnt "BLAME: wp "
    run 1 "$sf" blame "$reg/S2-v5-patch.repro"
    has "BLAME: wp skip-if-not-w -> pt-protect"
    run 1 "$sf" blame "$reg/S9-b9-sync-page-tlbs-dirty.repro"
    has "BLAME: sync-flush tlbs-dirty -> remote"
    run 1 "$sf" blame "$src/repro/testdata/blame-linux-5.10-lost-page-dirty.repro"
    has "BLAME: tdp-setter plain -> xchg-if-volatile"
    hasnt "BLAME: check-mmu-w-implies-host-w"
    # Against a preset that does not fix it: no knob is blamed.
    run 1 "$sf" blame --against v5-patch "$reg/S1-v5-patch.repro"
    has "INFO: blame: no single knob of v5-patch removes lost-page-dirty from this finding"
    run 0 "$sf" blame "$reg/S1-linux-3.6.repro"
    has "no finding under rules linux-3.6 (verdict ok); nothing to blame"
    run 2 "$sf" blame --against linux-9.99 "$reg/S1-v5-patch.repro"
    has "--against: unknown rules preset 'linux-9.99'"
    run 2 "$sf" blame nothere.repro
    has "nothere.repro: no such file"
    run 2 "$sf" blame
    has "expected exactly one FILE"
    ;;
  minimize_script)
    ms="$src/scripts/minimize.sh"
    run 0 "$sf" convert "$reg/S2-spec-v5-patch.repro" -o s2.bin
    run 1 "$ms" --engine none --rules v5-patch --sptefuzz "$sf" s2.bin -o s2.repro
    has "INFO: minimize.sh: s2.bin violates stale-tlb-after-pt-protect under rules v5-patch"
    has "INFO: minimize.sh: wrote s2.repro in"
    run 0 "$sf" replay --expect --quiet s2.repro
    run 2 "$ms" --engine none --rules v5-patch --sptefuzz "$sf" s2.bin -o s2.repro
    has "ERROR: minimize.sh: -o s2.repro already exists; it is never overwritten"
    run 2 "$ms" --engine sometimes --sptefuzz "$sf" s2.bin -o x.repro
    has "--engine 'sometimes': expected libfuzzer, afl or none"
    run 2 "$ms" --engine none --sptefuzz "$sf" s2.bin
    has "expected -o OUT"
    run 2 "$ms" --rules v5-patch --fuzzer ./no-such-fuzzer --sptefuzz "$sf" s2.bin -o y.repro
    has "--fuzzer ./no-such-fuzzer: not an executable"
    # A text repro skips the byte step; no finding: 0, nothing written.
    run 0 "$ms" --sptefuzz "$sf" "$reg/S1-linux-3.6.repro" -o none.repro
    has "nothing to minimize, nothing written"
    [ ! -e none.repro ] || { echo "FAIL: none.repro written"; failures=$((failures + 1)); }
    ;;
  *)
    echo "ERROR: cli_test.sh: unknown case '$case'" >&2
    exit 2
    ;;
esac
if [ "$failures" -gt 0 ]; then
  echo "FAIL: cli_test.sh $case: $failures failed checks (work dir $work)"
  exit 1
fi
echo "PASS: cli_test.sh $case"
