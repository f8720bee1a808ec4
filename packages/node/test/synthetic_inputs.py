"""Synthetic clinical volumes the end-to-end tests write in several formats (imported by their Python snippets,
which run with this folder on PYTHONPATH: see runPython in helpers.ts)."""
import numpy as np

N = 256


def ct_volume(depth):
    """(x, y, z) HU: air, a body at -50, a bone strip at 1500, an object of 200 HU in slices 1..2."""
    v = np.full((N, N, depth), -1000, np.int16)
    v[20:236, 20:236, :] = -50
    v[30:41, 20:236, :] = 1500
    v[100:151, 80:131, 1:3] = 200
    return v
