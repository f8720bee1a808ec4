# Offline probe: clip each label's mask to its box (+ margin px), score with daft eval.
import sys, os, numpy as np
src, imgs, dst, margin = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(dst, exist_ok=True)
outside = total = 0
for f in sorted(os.listdir(src)):
    if not f.endswith('.npz'): continue
    segs = np.load(os.path.join(src, f))['segs']
    boxes = np.load(os.path.join(imgs, f))['boxes']
    out = segs.copy()
    H, W = segs.shape[:2]
    for i, b in enumerate(boxes):
        lab = i + 1
        x0, y0, x1, y1 = [int(round(v)) for v in b[:4]]
        inside = np.zeros((H, W), bool)
        inside[max(0, y0 - margin):y1 + 1 + margin, max(0, x0 - margin):x1 + 1 + margin] = True
        m = segs == lab
        outside += int((m & ~inside).sum()); total += int(m.sum())
        out[m & ~inside] = 0
    np.savez_compressed(os.path.join(dst, f), segs=out)
print(f'{outside} of {total} mask pixels outside their box (+{margin})')
