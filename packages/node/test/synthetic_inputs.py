"""Synthetic clinical volumes the end-to-end tests write in several formats, and the summary they read label maps
back with (imported by their Python snippets, which run with this folder on PYTHONPATH: see runPython in
helpers.ts)."""
import numpy as np

N = 256


def ct_volume(depth):
    """(x, y, z) HU: air, a body at -50, a bone strip at 1500, an object of 200 HU in slices 1..2."""
    v = np.full((N, N, depth), -1000, np.int16)
    v[20:236, 20:236, :] = -50
    v[30:41, 20:236, :] = 1500
    v[100:151, 80:131, 1:3] = 200
    return v


def label_summary(data):
    """Per label value (0 left out): voxel count and the inclusive bounding box, as lists for JSON."""
    labels = {}
    for value in np.unique(data):
        if value == 0:
            continue
        where = np.argwhere(data == value)
        labels[int(value)] = {"count": int(len(where)), "min": where.min(0).tolist(), "max": where.max(0).tolist()}
    return labels
