#!/usr/bin/env bash
# Usage: bench/schedule_search.sh [--seeds N] [--timeout S] [--strategies "..."] [--out FILE]
#
# Schedule search alone (issue 8, item 3): for every buggy rules preset, the
# program of its spec scenario (corpus/regressions, `expect violation`) is
# fixed with `explore --program FILE`, and only the schedules are searched.
# This separates "can the search find the interleaving" from "can it draw
# the program", which bench/time_to_bug.sh measures together. Strategies:
#   random-uniform  explore --strategy random --switch 1000 (uniform random scheduling)
#   random          explore --strategy random (a switch rate of 20-500 per mille per execution)
#   pct3            explore --strategy pct --depth 3
#   guided          explore --strategy guided (interleaving feedback, rarity pick)
#   guided-uniform  ... --pick uniform
# Each runs --seeds seeds (default 11) with --timeout S (default 10) each.
# Prints, and writes to FILE (default bench/results/schedule-search.md), the
# median executions to the finding (a run that finds nothing counts with the
# executions it ran) and found/runs, then the ratio random-uniform / guided
# for the three programs uniform random scheduling needs the most executions for.
# Binary: SPTEFUZZ_BIN (default build/release/repro/sptefuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "ERROR: schedule_search.sh: $*" >&2; exit 2; }
seeds=11 timeout_s=10 out=bench/results/schedule-search.md
strategies="random-uniform random pct3 guided guided-uniform"
while [ $# -gt 0 ]; do
  case "$1" in
    --*) [ "$1" = --help ] || [ $# -ge 2 ] || die "$1 needs a value (see --help)" ;;
  esac
  case "$1" in
    --seeds) seeds="${2:-}"; shift 2 ;;
    --timeout) timeout_s="${2:-}"; shift 2 ;;
    --strategies) strategies="${2:-}"; shift 2 ;;
    --out) out="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$seeds" =~ ^[1-9][0-9]*$ ]] || die "--seeds '$seeds': expected a positive integer"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "--timeout '$timeout_s': expected a positive integer"
bin="${SPTEFUZZ_BIN:-build/release/repro/sptefuzz}"
[ -x "$bin" ] || die "no sptefuzz binary at $bin (set SPTEFUZZ_BIN)"
reg=corpus/regressions
# One scenario program per buggy preset.
programs="S1-v5-patch avi-proposal-explore-seed1 avi-proposal-literal-explore-seed1 S8-linux-4.12 S6-linux-5.10
  S5-b5-harvest-flush-after-unlock S14-b14-mmu-w-gate-change-pte-keeps-mmu-w
  S11-b11-make-spte-skips-d-conditional-harvest-flush S12-b12-zap-range-yield-forgets-flush
  zap-atomic-m-flush-after-unlock S13-b13-lockless-aging-v6.13-predicate S4-b4-fast-pf-large-spte-logs-base-gfn
  S3-b3-fast-pf-indirect-sp-aba S9-b9-sync-page-tlbs-dirty S10-b10-sync-page-dirty-lost"
for p in $programs; do [ -f "$reg/$p.repro" ] || die "no $reg/$p.repro"; done

args_of() {
  case "$1" in
    random-uniform) echo "--strategy random --switch 1000" ;;
    random) echo "--strategy random" ;;
    pct3) echo "--strategy pct --depth 3" ;;
    guided) echo "--strategy guided" ;;
    guided-uniform) echo "--strategy guided --pick uniform" ;;
    *) die "unknown strategy '$1'" ;;
  esac
}
for st in $strategies; do args_of "$st" >/dev/null; done

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
# Every run: PROGRAM STRATEGY FOUND EXECUTIONS
for p in $programs; do
  for st in $strategies; do
    for ((seed = 1; seed <= seeds; seed++)); do
      rc=0
      # shellcheck disable=SC2046  # the strategy's flags, split on spaces
      o="$("$bin" explore --program "$reg/$p.repro" $(args_of "$st") --seed "$seed" --time "$timeout_s" --quiet \
           --minimize off 2>&1)" || rc=$?
      case "$rc" in
        1) n="$(echo "$o" | sed -nE 's/^INFO: found after ([0-9]+) executions.*/\1/p')"; f=1 ;;
        0) n="$(echo "$o" | sed -nE 's/^INFO: no violation: ([0-9]+) executions.*/\1/p')"; f=0 ;;
        *) echo "$o" >&2; die "sptefuzz explore failed ($rc) on $p $st seed $seed" ;;
      esac
      echo "$p $st $f $n" >>"$tmp"
    done
  done
done

python3 - "$tmp" "$seeds" "$timeout_s" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$strategies" >"$out" <<'EOF'
import statistics, sys, datetime
path, seeds, timeout, commit, strategies = sys.argv[1:6]
strategies = strategies.split()
rows = [l.split() for l in open(path)]
progs = []
for r in rows:
    if r[0] not in progs:
        progs.append(r[0])
cell = {}
for p in progs:
    for s in strategies:
        rs = [r for r in rows if r[0] == p and r[1] == s]
        cell[(p, s)] = (statistics.median(int(r[3]) for r in rs), sum(r[2] == "1" for r in rs), len(rs))
when = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
print("# Schedule search on each bug's own program (issue 8)\n")
print(f"`bench/schedule_search.sh --seeds {seeds} --timeout {timeout}` at commit {commit}, {when}. Each buggy "
      "preset's scenario program is fixed (`explore --program FILE`); only the schedules are searched. Median "
      "executions to the finding, found/runs.\n")
print("| program | " + " | ".join(strategies) + " |")
print("|---|" + "---:|" * len(strategies))
for p in progs:
    print(f"| {p} | " + " | ".join(f"{cell[(p, s)][0]:.0f} ({cell[(p, s)][1]}/{cell[(p, s)][2]})" for s in strategies) + " |")
if "random-uniform" in strategies and "guided" in strategies:
    hardest = sorted(progs, key=lambda p: -cell[(p, "random-uniform")][0])[:3]
    print("\nThe three programs uniform random scheduling needs the most executions for, random-uniform / guided "
          "(median executions):\n")
    for p in hardest:
        a, b = cell[(p, "random-uniform")][0], cell[(p, "guided")][0]
        print(f"* {p}: {a:.0f} / {b:.0f} = {a / b if b else float('inf'):.2f}x")
EOF
cat "$out"
