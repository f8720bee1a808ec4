import { describe, expect, it } from "vitest";
import {
  boxMean,
  EdgeGuide,
  guidedFilter,
  GuidedFilterWorkspace,
  logitOf,
  parseEdgeRefinement,
  radiusInPixels,
} from "./edgeRefinement.js";
import { LogitUpsampler } from "./postprocess.js";
import { modelFrame } from "./preprocess.js";

/** Brute-force mean over the clipped (2r+1)² neighbourhood. */
function bruteMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      let n = 0;
      for (let v = Math.max(0, y - r); v <= Math.min(h - 1, y + r); v++)
        for (let u = Math.max(0, x - r); u <= Math.min(w - 1, x + r); u++) {
          s += src[v * w + u]!;
          n++;
        }
      out[y * w + x] = s / n;
    }
  return out;
}

describe("boxMean's definition", () => {
  it("equals the brute-force clipped mean, radius larger than the window included", () => {
    const w = 7;
    const h = 5;
    const src = Float32Array.from({ length: w * h }, (_, i) => Math.sin(i * 1.7) * 10 + i);
    for (const r of [1, 2, 6]) {
      const got = boxMean(src, w, h, r, new Float32Array(w * h));
      const want = bruteMean(src, w, h, r);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    }
  });
});

/** The plain running-sum mean (rows, then each column top to bottom), float64 sums as boxMean keeps them. */
function runningMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    let sum = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[y * w + x]!;
    for (let x = 0; x < w; x++) {
      tmp[y * w + x] = sum / (Math.min(x + r, w - 1) - Math.max(x - r, 0) + 1);
      if (x + r + 1 < w) sum += src[y * w + x + r + 1]!;
      if (x - r >= 0) sum -= src[y * w + x - r]!;
    }
  }
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) sum += tmp[y * w + x]!;
    for (let y = 0; y < h; y++) {
      out[y * w + x] = sum / (Math.min(y + r, h - 1) - Math.max(y - r, 0) + 1);
      if (y + r + 1 < h) sum += tmp[(y + r + 1) * w + x]!;
      if (y - r >= 0) sum -= tmp[(y - r) * w + x]!;
    }
  }
  return out;
}

/** Values with the spread of real probabilities: many near 0 or 1, where float rounding shows. */
function probabilities(n: number, seed: number): Float32Array {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Float32Array.from({ length: n }, () => {
    const u = next();
    return u < 0.4 ? next() * 1e-9 : u < 0.8 ? 1 - next() * 1e-3 : next();
  });
}

describe("boxMean", () => {
  it("equals the plain running mean to the bit, whole, clipped and in place", () => {
    for (const [w, h, r] of [
      [37, 23, 3],
      [23, 37, 5],
      [9, 4, 6],
      [1, 12, 2],
      [12, 1, 2],
      [64, 48, 1],
    ] as const) {
      const src = probabilities(w * h, w * 31 + h);
      const want = runningMean(src, w, h, r);
      expect(boxMean(src, w, h, r, new Float32Array(w * h))).toEqual(want);
      const inPlace = Float32Array.from(src);
      boxMean(inPlace, w, h, r, new Float32Array(w * h), inPlace);
      expect(inPlace).toEqual(want);
    }
  });
});

/** The guided filter written plainly (fresh arrays, the plain running mean), as edge refinement first had it. */
function plainGuidedFilter(I: Float32Array, p: Float32Array, w: number, h: number, r: number, eps: number) {
  const n = w * h;
  const Ip = Float32Array.from({ length: n }, (_, i) => I[i]! * p[i]!);
  const II = Float32Array.from({ length: n }, (_, i) => I[i]! * I[i]!);
  const [mI, mp, mIp, mII] = [I, p, Ip, II].map((a) => runningMean(a, w, h, r));
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const ai = (mIp![i]! - mI![i]! * mp![i]!) / (mII![i]! - mI![i]! * mI![i]! + eps);
    a[i] = ai;
    b[i] = mp![i]! - ai * mI![i]!;
  }
  const ma = runningMean(a, w, h, r);
  const mb = runningMean(b, w, h, r);
  return Float32Array.from({ length: n }, (_, i) => ma[i]! * I[i]! + mb[i]!);
}

describe("guidedFilter", () => {
  it("gives the plain filter's bits (means computed in place, in reused buffers)", () => {
    for (const [w, h, r] of [
      [50, 30, 3],
      [9, 40, 5],
      [33, 33, 16],
    ] as const) {
      const I = probabilities(w * h, w + 1);
      const p = probabilities(w * h, h + 2);
      expect(guidedFilter(I, p, w, h, r, 1e-3)).toEqual(plainGuidedFilter(I, p, w, h, r, 1e-3));
    }
  });

  it("gives the same bits in a reused workspace as in fresh arrays, and leaves p alone without one", () => {
    const workspace = new GuidedFilterWorkspace();
    for (const [w, h, r] of [
      [60, 40, 4],
      [20, 30, 2],
      [70, 45, 6],
    ] as const) {
      const I = probabilities(w * h, w);
      const p = probabilities(w * h, h);
      const pBefore = Float32Array.from(p);
      const fresh = guidedFilter(I, p, w, h, r, 1e-3);
      expect(p).toEqual(pBefore);
      const wp = workspace.buffer(1, w * h);
      wp.set(p);
      const wI = workspace.buffer(0, w * h);
      wI.set(I);
      expect(guidedFilter(wI, wp, w, h, r, 1e-3, workspace)).toEqual(fresh);
    }
  });

  it("with a flat guide it only smooths: the mean of the mean of the input", () => {
    const w = 9;
    const h = 6;
    const I = new Float32Array(w * h).fill(0.3);
    const p = Float32Array.from({ length: w * h }, (_, i) => (i % w < 4 ? 1 : 0));
    const q = guidedFilter(I, p, w, h, 1, 0.01);
    const want = bruteMean(bruteMean(p, w, h, 1), w, h, 1);
    q.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
  });

  it("moves a soft edge onto the guide's edge", () => {
    // The guide steps from dark to bright between x = 5 and x = 6; the input ramps from 1 to 0 over x = 2..9,
    // crossing 0.5 near x = 5.5 but soft. The refined edge is sharp and sits on the guide's step.
    const w = 12;
    const h = 4;
    const I = Float32Array.from({ length: w * h }, (_, i) => (i % w <= 5 ? 0.9 : 0.1));
    const p = Float32Array.from({ length: w * h }, (_, i) => Math.min(1, Math.max(0, (9 - (i % w)) / 7)));
    const q = guidedFilter(I, p, w, h, 2, 1e-4);
    for (let y = 0; y < h; y++) {
      expect(q[y * w + 5]!).toBeGreaterThan(0.65);
      expect(q[y * w + 6]!).toBeLessThan(0.35);
      expect(q[y * w + 5]! - q[y * w + 6]!).toBeGreaterThan(p[y * w + 5]! - p[y * w + 6]! + 0.2);
    }
  });
});

describe("LogitUpsampler with an edge guide", () => {
  it("without a guide the mask is the bilinear one; with a guide its edge moves onto the image's", () => {
    // 4×4 frame → 16×16 image (4 output pixels per frame pixel). Logits positive in frame columns 0–1: the
    // bilinear mask ends at x = 7. The image's object ends at x = 9, inside the ramp.
    const frame = modelFrame(16, 16, 4);
    const logits = Float32Array.from({ length: 16 }, (_, i) => (i % 4 <= 1 ? 3 : -3));
    const image = {
      data: Uint8Array.from({ length: 256 }, (_, i) => (i % 16 <= 9 ? 200 : 20)),
      height: 16,
      width: 16,
      channels: 1 as const,
    };
    const plain = new Uint16Array(256);
    new LogitUpsampler(frame).paint(logits, 0, plain, 1);
    const refined = new Uint16Array(256);
    const guide = new EdgeGuide(image, { radius: 1, eps: 1e-3 });
    const box = new LogitUpsampler(frame).paint(logits, 0, refined, 1, undefined, guide);
    const lastColumn = (m: Uint16Array, y: number) => {
      let last = -1;
      for (let x = 0; x < 16; x++) if (m[y * 16 + x]) last = x;
      return last;
    };
    for (let y = 0; y < 16; y++) {
      expect(lastColumn(plain, y)).toBe(7);
      expect(lastColumn(refined, y)).toBe(9);
    }
    expect(box).toEqual([0, 0, 9, 15]);
  });

  it("paints the same masks whether boxes share one guide (its reused buffers) or each has its own", () => {
    // 8×8 frame → 40×40 image: boxes whose windows are large, small, then large again.
    const frame = modelFrame(40, 40, 8);
    const image = {
      data: Uint8Array.from({ length: 1600 }, (_, i) => ((i % 40) * 7 + Math.floor(i / 40) * 3) % 256),
      height: 40,
      width: 40,
      channels: 1 as const,
    };
    const settings = { radius: 1, eps: 1e-3 };
    const logits = new Float32Array(3 * 64).fill(-4);
    const square = (k: number, x0: number, x1: number) => {
      for (let y = x0; y <= x1; y++)
        for (let x = x0; x <= x1; x++) logits[k * 64 + y * 8 + x] = 3 + ((x + y) % 3);
    };
    square(0, 1, 6);
    square(1, 3, 4);
    square(2, 0, 5);
    const shared = new EdgeGuide(image, settings);
    for (let k = 0; k < 3; k++) {
      const a = new Uint16Array(1600);
      const b = new Uint16Array(1600);
      const boxA = new LogitUpsampler(frame).paint(logits, k, a, 1, undefined, shared);
      const boxB = new LogitUpsampler(frame).paint(
        logits,
        k,
        b,
        1,
        undefined,
        new EdgeGuide(image, settings),
      );
      expect(boxA).toEqual(boxB);
      expect(a).toEqual(b);
      expect(a.some((v) => v === 1)).toBe(true);
    }
  });

  it("reads an RGB guide as its grey mean, min-max scaled", () => {
    const image = {
      data: Uint8Array.from([10, 20, 30, 110, 120, 130]),
      height: 1,
      width: 2,
      channels: 3 as const,
    };
    const g = new EdgeGuide(image, { radius: 1, eps: 0.01 });
    const win = g.window(0, 0, 2, 1);
    expect(win[0]).toBeCloseTo(0.1 / 1.2, 5); // (20 − 10) / (130 − 10)
    expect(win[1]).toBeCloseTo(1.1 / 1.2, 5);
  });
});

describe("settings", () => {
  it("parses off and R,EPS, refuses the rest in one line", () => {
    expect(parseEdgeRefinement("off")).toBeNull();
    expect(parseEdgeRefinement("1.5,0.01")).toEqual({ radius: 1.5, eps: 0.01 });
    for (const bad of ["", "1", "0,0.1", "1,0", "9,0.1", "1,2", "a,b", "1,0.1,3", "1,"])
      expect(() => parseEdgeRefinement(bad)).toThrow(/edge refinement must be/);
  });

  it("scales the radius to output pixels, at least 1; clamps logits of 0 and 1", () => {
    expect(radiusInPixels({ radius: 1, eps: 0.01 }, 4)).toBe(4);
    expect(radiusInPixels({ radius: 1, eps: 0.01 }, 0.25)).toBe(1);
    expect(logitOf(0)).toBe(-20);
    expect(logitOf(1)).toBe(20);
    expect(logitOf(0.5)).toBe(0);
  });
});
