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

  /** Grey values of the window [x0, x0 + w) × [y0, y0 + h) of the plane, row-major, in [0, 1]. */
  window(x0: number, y0: number, w: number, h: number): Float32Array {
    const { data, width, channels: c } = this.image;
    const out = new Float32Array(w * h);
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
 * Guided filter over a w×h window: q = mean(a)·I + mean(b), with a = cov(I, p) / (var(I) + eps) and
 * b = mean(p) − a·mean(I) over (2r+1)² neighbourhoods clipped to the window.
 */
export function guidedFilter(
  I: Float32Array,
  p: Float32Array,
  w: number,
  h: number,
  r: number,
  eps: number,
): Float32Array {
  const n = w * h;
  const tmp = new Float32Array(n);
  const mean = (src: Float32Array): Float32Array => boxMean(src, w, h, r, tmp);
  const Ip = new Float32Array(n);
  const II = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    Ip[i] = I[i]! * p[i]!;
    II[i] = I[i]! * I[i]!;
  }
  const mI = mean(I);
  const mp = mean(p);
  const mIp = mean(Ip);
  const mII = mean(II);
  const a = Ip; // reused
  const b = II;
  for (let i = 0; i < n; i++) {
    const varI = mII[i]! - mI[i]! * mI[i]!;
    const ai = (mIp[i]! - mI[i]! * mp[i]!) / (varI + eps);
    a[i] = ai;
    b[i] = mp[i]! - ai * mI[i]!;
  }
  const ma = mean(a);
  const mb = mean(b);
  const q = mI; // reused
  for (let i = 0; i < n; i++) q[i] = ma[i]! * I[i]! + mb[i]!;
  return q;
}

/** Mean over the (2r+1)² neighbourhood clipped to the w×h window (separable running sums). */
export function boxMean(src: Float32Array, w: number, h: number, r: number, tmp: Float32Array): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let sum = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[row + x]!;
    for (let x = 0; x < w; x++) {
      const lo = x - r;
      const hi = x + r;
      tmp[row + x] = sum / (Math.min(hi, w - 1) - Math.max(lo, 0) + 1);
      if (hi + 1 < w) sum += src[row + hi + 1]!;
      if (lo >= 0) sum -= src[row + lo]!;
    }
  }
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) sum += tmp[y * w + x]!;
    for (let y = 0; y < h; y++) {
      const lo = y - r;
      const hi = y + r;
      out[y * w + x] = sum / (Math.min(hi, h - 1) - Math.max(lo, 0) + 1);
      if (hi + 1 < h) sum += tmp[(hi + 1) * w + x]!;
      if (lo >= 0) sum -= tmp[lo * w + x]!;
    }
  }
  return out;
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
