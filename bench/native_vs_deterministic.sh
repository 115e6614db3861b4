#!/usr/bin/env bash
# Usage: bench/native_vs_deterministic.sh [BUILD_DIR] [TIMEOUT_S] [SEEDS]
# For every buggy preset: time to the first finding of native stress (real
# OS threads, as many as cores) and of deterministic `explore --strategy
# random`, SEEDS seeds each (default 3) with TIMEOUT_S per run (default 30;
# a miss counts as "not found in TIMEOUT_S"). Also the runtime throughput of
# this build. Writes bench/results/native-vs-deterministic.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
timeout_s="${2:-30}"
seeds="${3:-3}"
bin="$build/repro/sptefuzz"
[ -x "$bin" ] || { echo "ERROR: native_vs_deterministic.sh: $bin not found (scripts/build.sh release)" >&2; exit 2; }
threads=$(nproc)
out=bench/results/native-vs-deterministic.md
tmp=$(mktemp)
{
  echo "# Native stress vs deterministic search: time to first finding"
  echo
  echo "Command: \`bench/native_vs_deterministic.sh $build $timeout_s $seeds\`; $threads cores; $(date -u +%Y-%m-%d)."
  echo "Native: \`sptefuzz stress --threads $threads\`; deterministic: \`sptefuzz explore --strategy random\`."
  echo "Median over $seeds seeds; a miss is reported as >${timeout_s}."
  echo
  echo "| preset | native median s | native found | explore median s | explore found | speedup |"
  echo "|---|---|---|---|---|---|"
} > "$tmp"
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else print a[int((NR+1)/2)]}'; }
presets=$("$bin" rules | awk '/^[a-z0-9][a-z0-9.-]*$/ {p=$1} /^  expected: violates/ {print p}')
for p in $presets; do
  nt=(); nf=0; et=(); ef=0
  for s in $(seq 1 "$seeds"); do
    line=$("$bin" stress --rules "$p" --threads "$threads" --seed "$s" --time "$timeout_s" --quiet --minimize off || true)
    t=$(echo "$line" | sed -n 's/^INFO: found after .* rounds, \([0-9.]*\) s on .*/\1/p')
    if [ -n "$t" ]; then nf=$((nf+1)); nt+=("$t"); else nt+=("$timeout_s"); fi
    line=$("$bin" explore --rules "$p" --seed "$s" --time "$timeout_s" --quiet --minimize off || true)
    t=$(echo "$line" | sed -n 's/^INFO: found after .* steps, \([0-9.]*\) s$/\1/p')
    if [ -n "$t" ]; then ef=$((ef+1)); et+=("$t"); else et+=("$timeout_s"); fi
  done
  nm=$(printf '%s\n' "${nt[@]}" | median); em=$(printf '%s\n' "${et[@]}" | median)
  [ "$nf" -lt $(( (seeds+1)/2 )) ] && nm=">$timeout_s"
  [ "$ef" -lt $(( (seeds+1)/2 )) ] && em=">$timeout_s"
  speed=$(awk -v n="${nm#>}" -v e="$em" 'BEGIN { if (e+0 <= 0) e = 0.0005; printf "%s%.0fx", (substr("'"$nm"'",1,1)==">" ? ">" : ""), n/e }')
  echo "| $p | $nm | $nf/$seeds | $em | $ef/$seeds | $speed |" >> "$tmp"
done
echo >> "$tmp"
if [ -x "$build/bench/throughput" ]; then
  echo "Throughput of $build: \`$("$build/bench/throughput" 3 | head -1)\`" >> "$tmp"
fi
cat "$tmp"
mv "$tmp" "$out"
