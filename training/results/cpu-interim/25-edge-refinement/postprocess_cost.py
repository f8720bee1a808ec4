"""Per modality, the median postprocess and total in-process time per case of two `daft segment` runs of the same
cases (timings.csv), and the median of the per-case total ratios B / A.
Usage: python3 postprocess_cost.py A_DIR B_DIR > postprocess-cost.md"""
import csv
import re
import statistics as st
import sys


def load(d: str) -> dict[str, dict[str, str]]:
    return {r["case"]: r for r in csv.DictReader(open(f"{d}/timings.csv"))}


a, b = load(sys.argv[1]), load(sys.argv[2])
by_modality: dict[str, list[str]] = {}
for case in a:
    by_modality.setdefault(re.match(r"(?:2D|3D)Box_([A-Za-z]+)_", case).group(1), []).append(case)
print("| modality | cases | postprocess ms, A | postprocess ms, B | total ms, A | total ms, B | total B / A (median) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for modality, cases in sorted(by_modality.items()):
    med = lambda run, key: st.median(float(run[c][key]) for c in cases)  # noqa: E731
    ratio = st.median(float(b[c]["total_ms"]) / float(a[c]["total_ms"]) for c in cases)
    print(f"| {modality} | {len(cases)} | {med(a, 'postprocess_ms'):.1f} | {med(b, 'postprocess_ms'):.1f} | "
          f"{med(a, 'total_ms'):.1f} | {med(b, 'total_ms'):.1f} | {ratio:.2f} |")
