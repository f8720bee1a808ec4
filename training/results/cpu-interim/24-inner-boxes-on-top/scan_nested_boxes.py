"""Counts, per dataset and split, the cases with a box that lies inside an earlier box (where --overlaps inner
changes the painting) and the cases with any two overlapping boxes.

usage: python3 scan_nested_boxes.py [cases-dir]   (default data/cases)
"""
import collections
import pathlib
import sys

import numpy as np

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "data/cases")
cases, nested, overlapping = collections.Counter(), collections.Counter(), collections.Counter()
for split in ("train", "val", "test"):
    for path in sorted((root / split / "imgs").glob("*.npz")):
        dataset = path.name.split("_")[2]
        boxes = np.load(path)["boxes"]
        d = boxes.shape[1] // 2
        lo, hi = boxes[:, :d], boxes[:, d:]
        inside_earlier = any(
            (lo[j] <= lo[i]).all() and (hi[j] >= hi[i]).all() and not (boxes[i] == boxes[j]).all()
            for i in range(len(boxes))
            for j in range(i + 1, len(boxes))
        )
        overlap = any(
            (np.maximum(lo[i], lo[j]) <= np.minimum(hi[i], hi[j])).all()
            for i in range(len(boxes))
            for j in range(i + 1, len(boxes))
        )
        cases[dataset, split] += 1
        nested[dataset, split] += inside_earlier
        overlapping[dataset, split] += overlap
print("dataset,split,cases,box_inside_an_earlier_box,overlapping_boxes")
for key in sorted(cases):
    print(f"{key[0]},{key[1]},{cases[key]},{nested[key]},{overlapping[key]}")
