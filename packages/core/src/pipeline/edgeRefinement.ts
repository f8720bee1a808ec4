import { DaftInputError } from "../errors.js";
import type { Image2D } from "../image/types.js";

/**
 * Edge-aware upsampling (beyond the reference pipeline): the model's logits live on a 256² frame, so at the
 * original resolution a mask's edge is a bilinear ramp as wide as one frame pixel (4 px on a 1024² image) that
 * knows nothing of the image. A guided filter (He, Sun & Tang, "Guided Image Filtering", TPAMI 2013) with the
 * original image as guide moves that ramp onto the image's own edges: the mask's probability is fitted locally as a
 * linear function of the guide's intensity, so where the image has an edge inside the ramp, the mask follows it;
 * where the image is flat, the filter only smooths.
 *
 * `radius` is in model-frame pixels (scaled to the original pixels one frame pixel covers, at least 1); `eps`
 * regularizes on the guide's [0, 1] intensity scale (larger: smoother, closer to the bilinear mask).
 */
export interface EdgeRefinement {
  radius: number;
  eps: number;
}

export const MAX_EDGE_RADIUS = 8;

/** One plane of the original image as the guide: grey (channel mean), min-max to [0, 1] as the preprocessing. */
export class EdgeGuide {
  private readonly lo: number;
  private readonly span: number;
  /** Reused by every window this guide refines (see GuidedFilterWorkspace). */
  readonly workspace = new GuidedFilterWorkspace();

  constructor(
    private readonly image: Image2D,
    readonly settings: EdgeRefinement,
  ) {
    let lo = Infinity;
    let hi = -Infinity;
    const d = image.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.lo = lo;
    this.span = Math.max(hi - lo, 1e-8);
  }

  /**
   * Grey values of the window [x0, x0 + w) × [y0, y0 + h) of the plane, row-major, in [0, 1]; written into `out`
   * (w × h values) when given.
   */
  window(
    x0: number,
    y0: number,
    w: number,
    h: number,
    out: Float32Array = new Float32Array(w * h),
  ): Float32Array {
    const { data, width, channels: c } = this.image;
    const scale = 1 / (c * this.span);
    for (let y = 0; y < h; y++) {
      let src = ((y0 + y) * width + x0) * c;
      const row = y * w;
      for (let x = 0; x < w; x++, src += c) {
        let s = data[src]!;
        if (c === 3) s += data[src + 1]! + data[src + 2]!;
        out[row + x] = (s - c * this.lo) * scale;
      }
    }
    return out;
  }
}

/**
 * Buffers the guided filter works in, grown as needed and reused from one window to the next. A large window
 * (a 6000×4000 photo's lesion: about 3000², 36 MB a buffer) needs several, and fresh memory is expensive: the
 * system hands it out page by page on first touch (measured here: filling a fresh 36 MB array took 110 ms, the
 * same array again 11 ms), which was most of a large picture's edge refinement. Buffer 0 is meant for the guide's
 * window, 1 for the probabilities; the filter itself uses 2–5.
 */
export class GuidedFilterWorkspace {
  private readonly buffers: Float32Array[] = [];

  /** Buffer `k` (0 ≤ k < 6), `n` values long; its contents are whatever the last user left. */
  buffer(k: number, n: number): Float32Array {
    let b = this.buffers[k];
    if (!b || b.length < n)
      b = this.buffers[k] = new Float32Array(Math.max(n, Math.ceil((b?.length ?? 0) * 1.5)));
    return b.subarray(0, n);
  }
}

/**
 * Guided filter over a w×h window: q = mean(a)·I + mean(b), with a = cov(I, p) / (var(I) + eps) and
 * b = mean(p) − a·mean(I) over (2r+1)² neighbourhoods clipped to the window.
 *
 * With a workspace the filter works in its buffers 2–5 and in `p` itself, which it overwrites (p is meant to be
 * buffer 1), and returns one of them (valid until the workspace's next use); without one, p is left as it was
 * and the result is a fresh array.
 */
export function guidedFilter(
  I: Float32Array,
  p: Float32Array,
  w: number,
  h: number,
  r: number,
  eps: number,
  workspace?: GuidedFilterWorkspace,
): Float32Array {
  const n = w * h;
  const ws = workspace ?? new GuidedFilterWorkspace();
  const mp = workspace ? p : Float32Array.from(p); // becomes mean(p), then b, then mean(b)
  const tmp = ws.buffer(2, n);
  const mI = ws.buffer(3, n); // mean(I), then q
  const mIp = ws.buffer(4, n); // I·p, its mean, then a, then mean(a)
  const mII = ws.buffer(5, n); // I·I, its mean
  for (let i = 0; i < n; i++) {
    mIp[i] = I[i]! * mp[i]!;
    mII[i] = I[i]! * I[i]!;
  }
  const mean = (src: Float32Array, out: Float32Array) => boxMean(src, w, h, r, tmp, out);
  mean(I, mI);
  mean(mp, mp);
  mean(mIp, mIp);
  mean(mII, mII);
  for (let i = 0; i < n; i++) {
    const varI = mII[i]! - mI[i]! * mI[i]!;
    const ai = (mIp[i]! - mI[i]! * mp[i]!) / (varI + eps);
    mIp[i] = ai;
    mp[i] = mp[i]! - ai * mI[i]!;
  }
  const ma = mean(mIp, mIp);
  const mb = mean(mp, mp);
  const q = mI;
  for (let i = 0; i < n; i++) q[i] = ma[i]! * I[i]! + mb[i]!;
  return q;
}

/**
 * Mean over the (2r+1)² neighbourhood clipped to the w×h window (separable running sums).
 *
 * This is most of edge refinement's time on a large picture (a 6000×4000 photo's lesion: a 3000² window, six
 * means), so both passes are written for speed: the vertical pass keeps one running sum per column and walks the
 * rows in memory order (going down each column in turn touched a new cache line at every step), and each pass
 * splits its line into the part where the neighbourhood is clipped by the window's start, the part where it is
 * whole, and the part clipped by its end, so the long middle loop has no branches. Every sum sees the same additions
 * and subtractions in the same order as the plain running sum, and every mean is the same division, so the
 * result is the same to the bit. `tmp` and `out` are w × h values; `out` may be `src` (the horizontal pass has
 * read all of src before the vertical one writes), `tmp` may not.
 */
export function boxMean(
  src: Float32Array,
  w: number,
  h: number,
  r: number,
  tmp: Float32Array,
  out: Float32Array = new Float32Array(w * h),
): Float32Array {
  for (let y = 0; y < h; y++) meanAlongRow(src, tmp, y * w, w, r);
  const sums = new Float64Array(w);
  for (let y = 0; y <= Math.min(r, h - 1); y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) sums[x]! += tmp[row + x]!;
  }
  for (let y = 0; y < h; y++) {
    const lo = y - r;
    const hi = y + r;
    const count = Math.min(hi, h - 1) - Math.max(lo, 0) + 1;
    const row = y * w;
    for (let x = 0; x < w; x++) out[row + x] = sums[x]! / count;
    if (hi + 1 < h && lo >= 0) {
      const add = (hi + 1) * w;
      const sub = lo * w;
      for (let x = 0; x < w; x++) sums[x] = sums[x]! + tmp[add + x]! - tmp[sub + x]!;
    } else if (hi + 1 < h) {
      const add = (hi + 1) * w;
      for (let x = 0; x < w; x++) sums[x]! += tmp[add + x]!;
    } else if (lo >= 0) {
      const sub = lo * w;
      for (let x = 0; x < w; x++) sums[x]! -= tmp[sub + x]!;
    }
  }
  return out;
}

/** One row's running mean (see boxMean): src[row … row + w) → out, neighbourhood ±r clipped to the row. */
function meanAlongRow(src: Float32Array, out: Float32Array, row: number, w: number, r: number): void {
  let sum = 0;
  for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[row + x]!;
  // x − r < 0 (nothing leaves the sum yet) while x < r; x + r + 1 < w (something enters) while x < w − r − 1.
  const leftEnd = Math.min(r, w);
  const rightStart = Math.max(leftEnd, w - r - 1);
  let x = 0;
  for (; x < leftEnd; x++) {
    out[row + x] = sum / (Math.min(x + r, w - 1) + 1);
    if (x + r + 1 < w) sum += src[row + x + r + 1]!;
  }
  const whole = 2 * r + 1;
  for (; x < rightStart; x++) {
    out[row + x] = sum / whole;
    sum = sum + src[row + x + r + 1]! - src[row + x - r]!;
  }
  for (; x < w; x++) {
    out[row + x] = sum / (Math.min(x + r, w - 1) - Math.max(x - r, 0) + 1);
    if (x + r + 1 < w) sum += src[row + x + r + 1]!;
    if (x - r >= 0) sum -= src[row + x - r]!;
  }
}

/** Output-pixel radius for a frame whose pixels each cover `outputPerFramePixel` original pixels. */
export function radiusInPixels(settings: EdgeRefinement, outputPerFramePixel: number): number {
  return Math.max(1, Math.round(settings.radius * outputPerFramePixel));
}

const MAX_LOGIT = 20;

/** Probability → logit, clamped to ±20 (so a refined 0 or 1 still compares with the doubtful band). */
export function logitOf(q: number): number {
  if (q <= 2e-9) return -MAX_LOGIT;
  if (q >= 1 - 2e-9) return MAX_LOGIT;
  return Math.log(q / (1 - q));
}

/** "off" → null; "<radius>,<eps>" (e.g. "1,0.01") → settings; anything else a one-line error. */
export function parseEdgeRefinement(text: string): EdgeRefinement | null {
  if (text === "off") return null;
  const parts = text.split(",");
  const [radius, eps] = parts.map((s) => (s.trim() === "" ? NaN : Number(s)));
  if (parts.length !== 2 || !(radius! > 0 && radius! <= MAX_EDGE_RADIUS) || !(eps! > 0 && eps! <= 1))
    throw new DaftInputError(
      `edge refinement must be "off" or "<radius>,<eps>" with 0 < radius ≤ ${MAX_EDGE_RADIUS} and 0 < eps ≤ 1, got ${JSON.stringify(text)}`,
    );
  return { radius: radius!, eps: eps! };
}

/** Whether parseEdgeRefinement accepts `text` (for schemas that report their own message). */
export function isEdgeRefinementText(text: string): boolean {
  try {
    parseEdgeRefinement(text);
    return true;
  } catch {
    return false;
  }
}
