"""Validation DSC per modality of the shipped predictions as they are, with only the largest connected
component per label (lcc), with holes filled (fill), and both. Usage: /usr/bin/python3 components_check.py PRED_DIR"""
import numpy as np, glob, os, collections
from scipy import ndimage as ndi
import sys
pred_dir = sys.argv[1] if len(sys.argv) > 1 else "out/zoom-val/zoom-32-f5"; gt_dir = "data/cases/val/gts"
res = collections.defaultdict(lambda: collections.defaultdict(list))
for f in sorted(glob.glob(pred_dir + "/*.npz")):
    name = os.path.basename(f); mod = name.split("_")[1]
    seg = np.load(f)["segs"]; gt = np.load(os.path.join(gt_dir, name))["gts"]
    labels = [l for l in np.unique(gt) if l]
    st = np.ones((3,)*seg.ndim)
    for l in labels:
        p = seg == l; g = gt == l
        def dsc(a): 
            s = a.sum() + g.sum(); return 2*(a & g).sum()/s if s else 1.0
        res[mod]["base"].append(dsc(p))
        lab, n = ndi.label(p, st)
        if n > 1:
            sizes = ndi.sum(p, lab, range(1, n+1)); lcc = lab == (1 + int(np.argmax(sizes)))
        else: lcc = p
        res[mod]["lcc"].append(dsc(lcc))
        fh = ndi.binary_fill_holes(p) if p.ndim == 2 else np.stack([ndi.binary_fill_holes(s) for s in p])
        res[mod]["fill"].append(dsc(fh))
        lf = ndi.binary_fill_holes(lcc) if p.ndim == 2 else np.stack([ndi.binary_fill_holes(s) for s in lcc])
        res[mod]["lcc+fill"].append(dsc(lf))
for mod, r in sorted(res.items()):
    print(f"{mod:12s} n={len(r['base']):5d} " + " ".join(f"{k} {np.mean(v):.4f}" for k, v in r.items()))
