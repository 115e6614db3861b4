#!/usr/bin/env python3
"""Usage: model_coverage.py --labels core/labels.h --spte core/spte.cc TRACE_FILE...

Model-level coverage from `sptefuzz replay` traces (the text trace, not
--quiet): which step labels (the spec's scheduling points, listed in
core/labels.h) the traces reached and which they never did, and which spte bit
transitions (each flag of core/spte.cc set 0->1 or cleared 1->0 by a step)
occurred. Writes a markdown report to stdout. Exit status: 0, 2 bad usage.
"""
import argparse
import collections
import re
import sys

TRACE = re.compile(r"^\s+(\d+)\s+thread \d+ \([^)]*\)\s+(\S+)\s+(.*)$")
SPTE = re.compile(r"\[([^\]]*)\] -> \[([^\]]*)\]")


def universe_labels(path):
    text = open(path).read()
    return [m.group(1) for m in re.finditer(r'X\(k\w+,\s*"([^"]+)"', text)]


def universe_bits(path):
    text = open(path).read()
    block = text[text.index("kFlagNames"):]
    block = block[:block.index("};")]
    return re.findall(r'\{kSpte\w+,\s*"([^"]+)"\}', block)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--spte", required=True)
    ap.add_argument("traces", nargs="+")
    a = ap.parse_args()
    try:
        labels, bits = universe_labels(a.labels), universe_bits(a.spte)
    except (OSError, ValueError) as e:
        print(f"ERROR: model_coverage.py: {e}", file=sys.stderr)
        sys.exit(2)
    seen_labels = collections.Counter()
    trans = collections.Counter()
    steps = runs = 0
    for path in a.traces:
        try:
            lines = open(path, errors="replace").read().splitlines()
        except OSError as e:
            print(f"ERROR: model_coverage.py: {e}", file=sys.stderr)
            sys.exit(2)
        for line in lines:
            if line.startswith("--- trace ---"):
                runs += 1
            m = TRACE.match(line)
            if not m:
                continue
            steps += 1
            seen_labels[m.group(2)] += 1
            s = SPTE.search(m.group(3))
            if s:
                before = set(s.group(1).split()) - {"0"}
                after = set(s.group(2).split()) - {"0"}
                for b in after - before:
                    trans[(b, "set")] += 1
                for b in before - after:
                    trans[(b, "clear")] += 1
    reached = [l for l in labels if seen_labels[l]]
    never = [l for l in labels if not seen_labels[l]]
    unknown = sorted(set(seen_labels) - set(labels))
    print("# Model coverage\n")
    print(f"{runs} traces, {steps} steps. Step labels reached: {len(reached)} of {len(labels)}; "
          f"spte bit transitions reached: {sum(1 for b in bits for d in ('set', 'clear') if trans[(b, d)])} "
          f"of {2 * len(bits)}.\n")
    print("## Step labels\n")
    print("| label | steps |\n|---|---:|")
    for l in labels:
        print(f"| {l} | {seen_labels[l] if seen_labels[l] else '**never**'} |")
    if unknown:
        print(f"\nLabels in the traces that core/labels.h does not list: {', '.join(unknown)}")
    print(f"\nNever reached: {', '.join(never) if never else 'none'}\n")
    print("## spte bit transitions\n")
    print("| bit | set (0->1) | cleared (1->0) |\n|---|---:|---:|")
    for b in bits:
        cells = [str(trans[(b, d)]) if trans[(b, d)] else "**never**" for d in ("set", "clear")]
        print(f"| {b} | {cells[0]} | {cells[1]} |")
    nev = [f"{b} {d}" for b in bits for d in ("set", "clear") if not trans[(b, d)]]
    print(f"\nNever: {', '.join(nev) if nev else 'none'}")


main()
