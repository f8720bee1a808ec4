# Offline estimate: per-label largest connected component / hole filling on predicted label maps.
import sys, os, numpy as np
from scipy import ndimage
src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(dst, exist_ok=True)
for f in sorted(os.listdir(src)):
    if not f.endswith('.npz'): continue
    segs = np.load(os.path.join(src, f))['segs']
    out = segs.copy()
    for lab in np.unique(segs):
        if lab == 0: continue
        m = segs == lab
        if 'lcc' in mode:
            cc, n = ndimage.label(m)
            if n > 1:
                sizes = ndimage.sum(m, cc, range(1, n + 1))
                keep = cc == (1 + int(np.argmax(sizes)))
                out[m & ~keep] = 0
                m = keep
        if 'fill' in mode:
            filled = ndimage.binary_fill_holes(m)
            out[filled & ~m & (out == 0)] = lab
    np.savez_compressed(os.path.join(dst, f), segs=out)
