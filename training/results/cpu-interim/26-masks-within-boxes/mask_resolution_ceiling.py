# Ceiling of a mask drawn at R×R in the model frame: ground truth → frame (area) → R → bilinear back → threshold.
import sys, os, numpy as np, torch, torch.nn.functional as F
gt_dir, out, R, pat = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.makedirs(out, exist_ok=True)
for f in sorted(os.listdir(gt_dir)):
    if pat not in f: continue
    g = np.load(os.path.join(gt_dir, f))['gts']
    H, W = g.shape[:2]
    s = 256 / max(H, W); rh, rw = round(H * s), round(W * s)
    segs = np.zeros((H, W), np.uint16)
    for lab in [l for l in np.unique(g) if l]:
        m = torch.from_numpy((g == lab).astype(np.float32))[None, None]
        fr = F.interpolate(m, size=(rh, rw), mode='area')
        pad = torch.zeros(1, 1, 256, 256); pad[..., :rh, :rw] = fr
        low = F.interpolate(pad, size=(R, R), mode='area')
        back = F.interpolate(low, size=(256, 256), mode='bilinear', align_corners=False)[..., :rh, :rw]
        full = F.interpolate(back, size=(H, W), mode='bilinear', align_corners=False)[0, 0].numpy()
        segs[full > 0.5] = lab
    np.savez_compressed(os.path.join(out, f), segs=segs)
