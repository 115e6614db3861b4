#!/usr/bin/env bash
# Usage: bench/explore_bench.sh [BUILD_DIR] [SEEDS] [TIMEOUT_S]
# Time to the first finding of `sptefuzz explore --strategy random` for every
# preset whose expected verdict is a violation, over SEEDS seeds (default 10)
# with a per-seed timeout (default 10 s), and a bounded run of every clean
# preset. Prints a markdown table; writes it to bench/results/explore.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
seeds="${2:-10}"
timeout_s="${3:-10}"
bin="$build/repro/sptefuzz"
[ -x "$bin" ] || { echo "ERROR: explore_bench.sh: $bin not found: build the release preset first (scripts/build.sh release)" >&2; exit 2; }
out=bench/results/explore.md
tmp=$(mktemp)
{
  echo "# explore --strategy random: time to first finding"
  echo
  echo "Command: \`bench/explore_bench.sh $build $seeds $timeout_s\` on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo
  echo "| preset | expected | found/seeds | median s | max s | invariants found |"
  echo "|---|---|---|---|---|---|"
} > "$tmp"
presets=$("$bin" rules | awk '/^[a-z0-9][a-z0-9.-]*$/ {p=$1} /^  expected:/ {sub(/^  expected: /,""); print p "\t" $0}')
while IFS=$'\t' read -r p expected; do
  if [ "$expected" = clean ]; then continue; fi
  times=(); found=0; invs=()
  for s in $(seq 1 "$seeds"); do
    line=$("$bin" explore --rules "$p" --seed "$s" --time "$timeout_s" --quiet --minimize off || true)
    t=$(echo "$line" | sed -n 's/^INFO: found after .* steps, \([0-9.]*\) s$/\1/p')
    inv=$(echo "$line" | sed -n 's/^SUMMARY: sptefuzz: \([a-z-]*\) .*/\1/p')
    if [ -n "$t" ]; then found=$((found+1)); times+=("$t"); invs+=("$inv"); fi
  done
  if [ "$found" -gt 0 ]; then
    med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    max=$(printf '%s\n' "${times[@]}" | sort -g | tail -1)
  else med="-"; max="-"; fi
  uniq=$(printf '%s\n' "${invs[@]}" | sort | uniq -c | awk '{printf "%s%s x%s", (NR>1?", ":""), $2, $1}')
  echo "| $p | $expected | $found/$seeds | $med | $max | $uniq |" >> "$tmp"
done <<< "$presets"
echo >> "$tmp"
echo "Clean presets, one seed each for ${timeout_s} s:" >> "$tmp"
echo >> "$tmp"
while IFS=$'\t' read -r p expected; do
  [ "$expected" = clean ] || continue
  line=$("$bin" explore --rules "$p" --seed 1 --time "$timeout_s" --quiet --minimize off || true)
  echo "- $p: $(echo "$line" | grep -E '^(INFO: no violation|SUMMARY)' | head -1)" >> "$tmp"
done <<< "$presets"
cat "$tmp"
mv "$tmp" "$out"
