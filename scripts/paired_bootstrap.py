"""Paired differences of two `daft eval` runs on the same test cases, with a stratified bootstrap interval.

The statistic is the README's: mean over modalities of each modality's mean over cases (DSC, NSD). Cases are
resampled with replacement within each modality (the same draw for both runs: paired), 2000 times, seed 0; the
interval is the 2.5–97.5 percentile of the differences.

    python3 scripts/paired_bootstrap.py OUT_DIR A:B [A:B ...]     (runs = folders OUT_DIR/<run>/eval/cases.csv)
"""

from __future__ import annotations

import csv
import os
import random
import sys
from collections import defaultdict

REPLICATES = 2000


def load(out: str, run: str) -> dict[str, tuple[str, float, float]]:
    with open(os.path.join(out, run, "eval", "cases.csv")) as f:
        return {r["case"]: (r["modality"], float(r["dsc"]), float(r["nsd"])) for r in csv.DictReader(f)}


def mean_over_modalities(scores: dict, by_modality: dict[str, list[str]], column: int) -> float:
    return sum(sum(scores[c][column] for c in cases) / len(cases) for cases in by_modality.values()) / len(by_modality)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or any(":" not in p for p in argv[1:]):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    out, pairs = argv[0], [tuple(p.split(":", 1)) for p in argv[1:]]
    runs = {name: load(out, name) for pair in pairs for name in pair}
    first = next(iter(runs.values()))
    for name, scores in runs.items():
        if scores.keys() != first.keys():
            print(f"{out}/{name}/eval/cases.csv: not the same cases as the other runs", file=sys.stderr)
            return 1
    by_modality: dict[str, list[str]] = defaultdict(list)
    for case in sorted(first):
        by_modality[first[case][0]].append(case)
    rng = random.Random(0)
    draws = [{m: [rng.choice(cases) for _ in cases] for m, cases in by_modality.items()} for _ in range(REPLICATES)]
    print(f"\nPaired differences, mean over modalities, with 95 % stratified bootstrap intervals ({REPLICATES} resamples "
          "of the cases within each modality):\n")
    print("| comparison | Δ DSC [95 % interval] | Δ NSD [95 % interval] |")
    print("|---|---:|---:|")
    for a, b in pairs:
        cells = []
        for column in (1, 2):
            diff = mean_over_modalities(runs[a], by_modality, column) - mean_over_modalities(runs[b], by_modality, column)
            boot = sorted(mean_over_modalities(runs[a], d, column) - mean_over_modalities(runs[b], d, column) for d in draws)
            cells.append(f"{diff:+.3f} [{boot[int(0.025 * REPLICATES)]:+.3f}, {boot[int(0.975 * REPLICATES)]:+.3f}]")
        print(f"| {a} − {b} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
