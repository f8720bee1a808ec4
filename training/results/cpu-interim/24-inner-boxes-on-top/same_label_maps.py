"""Compares two daft segment output folders: every label map's `segs` array and objects.csv, row for row.

usage: python3 same_label_maps.py <pred-a> <pred-b>   (exit 1 and the differing cases when they differ)
"""
import csv
import pathlib
import sys

import numpy as np

a, b = (pathlib.Path(p) for p in sys.argv[1:3])
names = sorted(p.name for p in a.glob("*.npz"))
assert names == sorted(p.name for p in b.glob("*.npz")), "the folders hold different cases"
differ = [n for n in names if not np.array_equal(np.load(a / n)["segs"], np.load(b / n)["segs"])]
rows = lambda d: list(csv.reader(open(d / "objects.csv")))
objects_same = rows(a) == rows(b)
print(f"{len(names)} label maps, {len(names) - len(differ)} identical; objects.csv identical: {objects_same}")
for n in differ:
    print("differs:", n)
sys.exit(0 if not differ and objects_same else 1)
