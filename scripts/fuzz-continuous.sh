#!/usr/bin/env bash
# Usage: scripts/fuzz-continuous.sh [--rules NAME] [--minutes M | --seconds S] [--rounds N]
#                                   [--jobs N] [--dir DIR] [--seeds DIR] [--fuzzer PATH --tool PATH]
#                                   [--max-corpus-mb MB] [--max-crashes-per-bug N]
#
# Continuous fuzzing on one machine, round after round until stopped (Ctrl-C
# or SIGTERM) or for --rounds N. Each round:
#   1. fuzzes with libFuzzer fork mode on all cores for M minutes, new inputs
#      going to DIR/round/new, crashes to DIR/round/crashes (the corpus is
#      only read);
#   2. merges the new coverage into the corpus (-merge=1 into a hard-linked
#      copy DIR/corpus.new, then swapped in; DIR/corpus.bak is kept until the
#      swap is done): no corpus input is ever lost or overwritten; when the
#      corpus exceeds --max-corpus-mb it is pruned by a full merge (inputs
#      that add no coverage leave, the coverage stays);
#   3. minimizes each new crash with `sptefuzz minimize` into a canonical text
#      repro and deduplicates: by the rule at fault when `sptefuzz blame`
#      finds a knob whose fixed value alone removes it (DIR/findings/bug-HASH/,
#      whatever invariants it breaks), else by invariant and signature (the
#      labels where the minimized schedule preempts, else the labels of the
#      steps that the finding's explanation names as its cause;
#      DIR/findings/INVARIANT-HASH/); each holds minimized.repro, signature,
#      invariants and up to --max-crashes-per-bug raw crash files;
#   4. rewrites DIR/findings/SUMMARY.md, one entry per distinct bug.
# Stopped at any point and restarted with the same DIR, it recovers the
# corpus from corpus.bak if a swap was cut off, and triages crash files left
# by the previous run. Corpus entries that are not readable regular files are
# reported and moved to DIR/quarantine/ instead of stopping the loop.
#
#   --rules NAME            rules preset (SPTEFUZZ_RULES; default: the default preset)
#   --minutes M | --seconds S   fuzzing time per round (default 10 minutes)
#   --rounds N              stop after N rounds (default: run until stopped)
#   --jobs N                fuzzing processes (default: all cores)
#   --dir DIR               state directory (default build/continuous/RULES)
#   --seeds DIR             seeds copied into an empty corpus (default corpus/seeds)
#   --fuzzer PATH, --tool PATH  a built sptefuzz_fuzzer and sptefuzz (default: build
#                           them with the libfuzzer preset in build/libfuzzer)
#   --max-corpus-mb MB      prune the corpus above this size (default 256)
#   --max-crashes-per-bug N raw crash files kept per distinct bug (default 5)
# Exit status: 0 stopped with no finding, 1 stopped with findings, 2 bad usage
# or setup failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "ERROR: fuzz-continuous.sh: $*" >&2; exit 2; }
log() { echo "INFO: fuzz-continuous.sh: $*"; }
warn() { echo "WARNING: fuzz-continuous.sh: $*" >&2; }

rules="" secs=600 rounds=0 jobs="$(nproc)" dir="" seeds="$root/corpus/seeds" fuzzer="" tool=""
max_corpus_mb=256 max_crashes=5
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 '$2': expected a positive integer"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rules) need_arg "$@"; rules="$2"; shift 2 ;;
    --minutes) need_arg "$@"; posint "$1" "$2"; secs=$(( $2 * 60 )); shift 2 ;;
    --seconds) need_arg "$@"; posint "$1" "$2"; secs="$2"; shift 2 ;;
    --rounds) need_arg "$@"; posint "$1" "$2"; rounds="$2"; shift 2 ;;
    --jobs) need_arg "$@"; posint "$1" "$2"; jobs="$2"; shift 2 ;;
    --dir) need_arg "$@"; dir="$2"; shift 2 ;;
    --seeds) need_arg "$@"; seeds="$2"; shift 2 ;;
    --fuzzer) need_arg "$@"; fuzzer="$2"; shift 2 ;;
    --tool) need_arg "$@"; tool="$2"; shift 2 ;;
    --max-corpus-mb) need_arg "$@"; posint "$1" "$2"; max_corpus_mb="$2"; shift 2 ;;
    --max-crashes-per-bug) need_arg "$@"; posint "$1" "$2"; max_crashes="$2"; shift 2 ;;
    --*=*) k="${1%%=*}"; v="${1#*=}"; shift; set -- "$k" "$v" "$@" ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ -d "$seeds" ] || die "--seeds '$seeds': not a directory"
seeds="$(cd "$seeds" && pwd)"
if [ -n "$fuzzer" ] || [ -n "$tool" ]; then
  [ -n "$fuzzer" ] && [ -n "$tool" ] || die "--fuzzer and --tool go together"
  [ -x "$fuzzer" ] || die "--fuzzer '$fuzzer': not an executable"
  [ -x "$tool" ] || die "--tool '$tool': not an executable"
else
  "$root/scripts/setup.sh" || die "setup failed"
  mkdir -p "$root/build/libfuzzer"
  log "building the libfuzzer preset (log: build/libfuzzer/continuous-build.log)"
  { (cd "$root" && cmake --preset libfuzzer) &&
    cmake --build "$root/build/libfuzzer" -j "${SPTEFUZZ_BUILD_JOBS:-$(nproc)}" --target sptefuzz_fuzzer sptefuzz; } \
    >"$root/build/libfuzzer/continuous-build.log" 2>&1 || die "the libfuzzer build failed (see the log)"
  fuzzer="$root/build/libfuzzer/fuzz/sptefuzz_fuzzer" tool="$root/build/libfuzzer/repro/sptefuzz"
fi
fuzzer="$(cd "$(dirname "$fuzzer")" && pwd)/$(basename "$fuzzer")"
tool="$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")"
if [ -n "$rules" ]; then
  "$tool" rules 2>/dev/null | grep -x -- "$rules" >/dev/null || die "--rules '$rules': not a preset of \`sptefuzz rules\`"
fi
[ -n "$dir" ] || dir="$root/build/continuous/${rules:-default}"
mkdir -p "$dir" || die "cannot create --dir '$dir'"
dir="$(cd "$dir" && pwd)"
export SPTEFUZZ_RULES="$rules"
rules_flag=()
[ -n "$rules" ] && rules_flag=(--rules "$rules")

cd "$dir"  # whatever a tool writes to its working directory stays in DIR
corpus="$dir/corpus" findings="$dir/findings" rdir="$dir/round" quarantine="$dir/quarantine"
lock="$dir/.lock"
exec 9>"$lock"
flock -n 9 || die "another fuzz-continuous.sh runs on $dir"

child=""
stop=0
on_signal() {
  stop=1
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; fi
}
trap on_signal INT TERM

# --- recovery of a swap cut off by a stop ------------------------------------
recover() {
  if [ -d "$dir/corpus.bak" ]; then
    if [ -d "$corpus" ]; then
      # The swap completed: corpus holds everything corpus.bak held.
      rm -rf "$dir/corpus.bak"
    else
      log "restoring the corpus from corpus.bak (a swap was cut off)"
      mv "$dir/corpus.bak" "$corpus"
    fi
  fi
  rm -rf "$dir/corpus.new"
}
recover
mkdir -p "$corpus" "$findings" "$rdir/new" "$rdir/crashes"
if [ -z "$(ls -A "$corpus")" ]; then
  cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  log "corpus seeded from $seeds ($(ls "$corpus" | wc -l) inputs)"
fi

# Entries that are not readable regular files are moved aside and reported.
check_corpus() {
  local d="$1" f n=0
  for f in "$d"/* "$d"/.[!.]*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    if [ -f "$f" ] && [ -r "$f" ] && head -c 1 "$f" >/dev/null 2>&1; then continue; fi
    mkdir -p "$quarantine"
    local dest="$quarantine/$(basename "$f").$(date +%s).$$"
    if mv "$f" "$dest" 2>/dev/null; then
      warn "unreadable corpus entry '$f' moved to $dest"
      echo "$(date -u +%FT%TZ) $f -> $dest" >>"$dir/unreadable.log"
    else
      warn "unreadable corpus entry '$f' (could not move it aside)"
      echo "$(date -u +%FT%TZ) $f (not moved)" >>"$dir/unreadable.log"
    fi
    n=$((n + 1))
  done
  [ "$n" -eq 0 ] || warn "$n unreadable entries in $d (see $dir/unreadable.log)"
}

dict="$root/corpus/sptefuzz.dict"
fopts=(-max_len=512 -dict="$dict")

# --- 2. merge with a swap that never loses an input ---------------------------
merge_into_corpus() {  # FULL(0|1): 1 = minimizing merge of everything (pruning)
  local full="$1" src=("$rdir/new")
  rm -rf "$dir/corpus.new"
  if [ "$full" = 1 ]; then
    mkdir "$dir/corpus.new"; src=("$corpus" "$rdir/new")
  else
    [ -n "$(ls -A "$rdir/new")" ] || return 0
    cp -al "$corpus" "$dir/corpus.new"
  fi
  local before; before="$(ls "$corpus" | wc -l)"
  "$fuzzer" "${fopts[@]}" -merge=1 -merge_control_file="$dir/merge.control" -artifact_prefix="$rdir/crashes/" \
    "$dir/corpus.new" "${src[@]}" >"$dir/merge.log" 2>&1 &
  child=$!
  if ! wait "$child"; then
    child=""
    warn "merge failed (log: $dir/merge.log); corpus unchanged, new inputs kept in $rdir/new"
    rm -rf "$dir/corpus.new"; return 0
  fi
  child=""
  [ "$stop" = 0 ] || { rm -rf "$dir/corpus.new"; return 0; }
  local after; after="$(ls "$dir/corpus.new" | wc -l)"
  if [ "$full" = 0 ] && [ "$after" -lt "$before" ]; then
    warn "merge result has fewer inputs ($after) than the corpus ($before); not swapped"
    rm -rf "$dir/corpus.new"; return 0
  fi
  mv "$corpus" "$dir/corpus.bak"
  mv "$dir/corpus.new" "$corpus"
  rm -rf "$dir/corpus.bak" "$rdir/new"
  mkdir -p "$rdir/new"
  rm -f "$dir/merge.control"
  log "corpus: $before -> $after inputs$([ "$full" = 1 ] && echo " (pruned)")"
}

# --- 3. triage: minimize, sign, deduplicate ------------------------------------
# The signature of a minimized finding: its invariant, then the labels where
# its minimized schedule preempts a thread ("through LABEL"), which name the
# race whatever the operations around it; a finding whose schedule needs no
# preemption is signed by the labels of the steps its explanation names as
# the cause (`sptefuzz replay` prints them). Output: "INVARIANT KEY" on the
# first line, the cause labels on the second.
signature_of() {  # REPRO
  local out inv sched cause blame
  out="$("$tool" replay --quiet "$1" 2>&1 || true)"
  inv="$(sed -n 's/^ERROR: sptefuzz: invariant violated: \([A-Za-z0-9-]*\).*/\1/p' <<<"$out" | head -n 1)"
  [ -n "$inv" ] || return 1
  cause="$(grep '^ERROR: sptefuzz: ' <<<"$out" | grep -v 'invariant violated' |
    grep -oE '\(thread [0-9]+ \([^)]*\) [A-Za-z0-9_.]+\)|at [A-Z][A-Za-z0-9_.]*' |
    sed -E 's/^\(thread [0-9]+ \([^)]*\) ([A-Za-z0-9_.]+)\)$/\1/; s/^at //' | sort -u | tr '\n' ' ' | sed 's/ $//')"
  sched="$( (grep '^schedule:' "$1" || true) | grep -oE 'through [A-Za-z0-9_.]+' | sed 's/through //' | sort -u |
    tr '\n' ',' | sed 's/,$//')"
  # The rule at fault, when one knob's fixed value alone removes the finding
  # (`sptefuzz blame`): that names the bug whatever invariant it broke.
  blame="$("$tool" blame "$1" 2>/dev/null | sed -n 's/^BLAME: \([^ ]*\) .* -> \(.*\)$/\1=\2/p' | sort |
    tr '\n' ',' | sed 's/,$//' || true)"
  if [ -n "$blame" ]; then
    echo "$inv fixed-by:$blame"
  elif [ -n "$sched" ]; then
    echo "$inv preempt-at:$sched"
  else
    echo "$inv cause:$(tr ' ' ',' <<<"$cause")"
  fi
  echo "$cause"
}

triage() {
  local f
  for f in "$rdir/crashes"/*; do
    [ -f "$f" ] || continue
    [ "$stop" = 0 ] || return 0
    local sha tmp sig inv hash fdir rc cause=""
    sha="$(sha1sum "$f" | cut -c1-40)"
    tmp="$rdir/min-$sha.repro"
    rm -f "$tmp"
    rc=0
    "$tool" minimize "${rules_flag[@]}" --format bytes --quiet "$f" -o "$tmp" >"$rdir/min.log" 2>&1 || rc=$?
    if [ ! -s "$tmp" ] || ! sig="$(signature_of "$tmp")"; then
      # Not an invariant violation that replays (a timeout, an OOM, a
      # sanitizer report, or flaky): kept for a look, capped like the rest.
      fdir="$findings/unreproduced"
      mkdir -p "$fdir/crashes"
      if [ "$(ls "$fdir/crashes" | wc -l)" -lt "$max_crashes" ]; then cp -n "$f" "$fdir/crashes/$(basename "$f")"; fi
      echo "$(basename "$f") minimize exit $rc" >>"$fdir/seen"
      rm -f "$tmp" "$f"
      continue
    fi
    cause="$(sed -n 2p <<<"$sig")"; sig="$(head -n 1 <<<"$sig")"
    inv="${sig%% *}"
    if [[ "${sig#* }" == fixed-by:* ]]; then
      # One entry per rule at fault, whichever invariants its findings break.
      hash="$(printf '%s' "${sig#* }" | sha1sum | cut -c1-12)"
      fdir="$findings/bug-$hash"
    else
      hash="$(printf '%s' "$sig" | sha1sum | cut -c1-12)"
      fdir="$findings/$inv-$hash"
    fi
    if [ ! -d "$fdir" ]; then
      mkdir -p "$fdir.tmp/crashes"
      printf '%s\n' "$sig" >"$fdir.tmp/signature"
      printf '%s\n' "$cause" >"$fdir.tmp/cause"
      date -u +%FT%TZ >"$fdir.tmp/first_seen"
      mv "$tmp" "$fdir.tmp/minimized.repro"
      mv "$fdir.tmp" "$fdir"  # a finding appears complete or not at all
      log "new finding: $inv (${sig#* }; cause steps $cause) -> $fdir/minimized.repro"
    fi
    grep -qx "$inv" "$fdir/invariants" 2>/dev/null || echo "$inv" >>"$fdir/invariants"
    rm -f "$tmp"
    if ! grep -qx "$sha" "$fdir/seen" 2>/dev/null; then
      echo "$sha" >>"$fdir/seen"
      if [ "$(ls "$fdir/crashes" | wc -l)" -lt "$max_crashes" ] && [ ! -e "$fdir/crashes/$(basename "$f")" ]; then
        cp "$f" "$fdir/crashes/$(basename "$f")"
      fi
    fi
    rm -f "$f"
  done
}

# --- 4. the summary -------------------------------------------------------------
write_summary() {
  local out="$findings/SUMMARY.md.tmp" n=0 d
  {
    echo "# sptefuzz findings"
    echo
    echo "Rules preset: \`${rules:-default}\`. Written by \`scripts/fuzz-continuous.sh\` at $(date -u +%FT%TZ)," \
         "after $round_total rounds; corpus: $(ls "$corpus" | wc -l) inputs."
    echo "One entry per distinct bug: the rule at fault when one knob's fixed value alone removes the finding"
    echo "(\`sptefuzz blame\`, fixed-by); otherwise the invariant + the labels where the minimized schedule"
    echo "preempts (preempt-at), or, with no preemption, the labels of the steps the explanation names as the cause."
    echo
    for d in "$findings"/*/; do
      d="${d%/}"
      [ -f "$d/signature" ] || continue
      n=$((n + 1))
      local sig inv
      sig="$(cat "$d/signature")"; inv="${sig%% *}"
      if [[ "${sig#* }" == fixed-by:* ]]; then
        echo "## $n. fixed by \`${sig#* fixed-by:}\` — invariants: $(tr '\n' ' ' <"$d/invariants" | sed 's/ $//; s/ /, /g')"
      else
        echo "## $n. \`$inv\` — ${sig#* }; cause steps: $(cat "$d/cause" 2>/dev/null || echo '?')"
      fi
      echo
      echo "- signature: \`$(basename "$d")\` ($sig)"
      echo "- first seen: $(cat "$d/first_seen" 2>/dev/null || echo '?'); crashes seen: $(wc -l <"$d/seen" 2>/dev/null || echo 0)," \
           "kept: $(ls "$d/crashes" | wc -l) in \`$(basename "$d")/crashes/\`"
      echo "- minimized repro: \`$(basename "$d")/minimized.repro\`; replay: \`sptefuzz replay $d/minimized.repro\`"
      echo
      echo '```'
      grep -v '^#' "$d/minimized.repro"
      echo '```'
      echo
    done
    [ "$n" -gt 0 ] || { echo "No finding."; echo; }
    if [ -s "$findings/unreproduced/seen" ]; then
      echo "## Crashes that did not minimize into an invariant violation"
      echo
      echo "$(wc -l <"$findings/unreproduced/seen") (a timeout, an OOM, a sanitizer report or a flaky input);" \
           "kept in \`unreproduced/crashes/\`."
      echo
    fi
    local pending; pending="$(ls "$rdir/crashes" | wc -l)"
    if [ "$pending" -gt 0 ]; then
      echo "$pending crash files in \`$rdir/crashes\` wait for triage (the next start does it)."
      echo
    fi
    if [ -s "$dir/unreadable.log" ]; then
      echo "## Unreadable corpus entries"
      echo
      echo "$(wc -l <"$dir/unreadable.log") moved aside (see \`$dir/unreadable.log\`)."
      echo
    fi
  } >"$out"
  mv "$out" "$findings/SUMMARY.md"
  nfindings="$n"
}

round_total="$(cat "$dir/rounds" 2>/dev/null || echo 0)"
[[ "$round_total" =~ ^[0-9]+$ ]] || round_total=0
nfindings=0
log "rules ${rules:-default}, $jobs jobs, ${secs}s per round, state in $dir"
# Crash files left by a stopped run are triaged first.
triage
round=0
while [ "$stop" = 0 ]; do
  round=$((round + 1))
  check_corpus "$corpus"
  log "round $round: fuzzing ${secs}s on $jobs jobs (corpus $(ls "$corpus" | wc -l) inputs)"
  "$fuzzer" "${fopts[@]}" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$rdir/crashes/" "$rdir/new" "$corpus" >"$rdir/fuzz.log" 2>&1 &
  child=$!
  wait "$child" || true
  child=""
  [ "$stop" = 0 ] || break
  grep -E '^#[0-9]+' "$rdir/fuzz.log" | tail -n 1 | sed 's/^/INFO: fuzz-continuous.sh: libFuzzer: /' || true
  merge_into_corpus 0
  if [ "$(du -sm "$corpus" | cut -f1)" -gt "$max_corpus_mb" ]; then merge_into_corpus 1; fi
  triage
  round_total=$((round_total + 1))
  echo "$round_total" >"$dir/rounds.tmp" && mv "$dir/rounds.tmp" "$dir/rounds"
  write_summary
  log "round $round done: $nfindings distinct findings (summary: $findings/SUMMARY.md)"
  [ "$rounds" -eq 0 ] || [ "$round" -lt "$rounds" ] || break
done
# Crash files of a round cut short are triaged too (minimizing takes
# milliseconds); a second signal leaves them for the next start.
if [ -n "$(ls -A "$rdir/crashes")" ]; then
  stop=0; trap 'exit 130' INT TERM
  triage
fi
write_summary
log "stopped after $round rounds; $nfindings distinct findings; corpus $(ls "$corpus" | wc -l) inputs"
[ "$nfindings" -eq 0 ] || exit 1
exit 0
