import { describe, expect, it } from "vitest";
import {
  boxMean,
  EdgeGuide,
  guidedFilter,
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

describe("boxMean", () => {
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

describe("guidedFilter", () => {
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
