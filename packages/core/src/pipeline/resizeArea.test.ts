import { describe, expect, it } from "vitest";
import { areaAxisWeights, resizeArea } from "./resizeArea.js";

describe("areaAxisWeights", () => {
  it("averages whole blocks for integer shrink factors", () => {
    const w = areaAxisWeights(8, 2);
    expect(Array.from(w.counts)).toEqual([4, 4]);
    expect(Array.from(w.weights)).toEqual([0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
  });
  it("splits pixels by overlap for fractional factors; weights sum to 1", () => {
    const w = areaAxisWeights(5, 2); // s = 2.5: [0,2.5) and [2.5,5)
    expect(Array.from(w.starts)).toEqual([0, 2]);
    expect(Array.from(w.weights.slice(0, 3))).toEqual([0.4, 0.4, 0.2].map(Math.fround));
    for (const [src, dst] of [
      [1000, 256],
      [37, 256],
      [300, 171],
    ] as const) {
      const a = areaAxisWeights(src, dst);
      for (let i = 0; i < dst; i++) {
        let sum = 0;
        for (let k = 0; k < a.counts[i]!; k++) sum += a.weights[a.offsets[i]! + k]!;
        expect(sum).toBeCloseTo(1, 5);
      }
    }
  });
  it("enlarging is two-tap with OpenCV INTER_AREA weights", () => {
    // 2 → 3: s = 2/3; pixel 1 covers [0.667, 1.333): 1/2 from source 0, 1/2 from source 1.
    const w = areaAxisWeights(2, 3);
    expect(Array.from(w.counts)).toEqual([1, 2, 1]);
    expect(w.weights[1]).toBeCloseTo(0.5, 6);
    expect(w.weights[2]).toBeCloseTo(0.5, 6);
  });
});

describe("resizeArea", () => {
  it("keeps the mean of the image when shrinking by an integer factor", () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    const out = resizeArea(src, 4, 4, 1, 2, 2);
    expect(Array.from(out)).toEqual([2.5, 4.5, 10.5, 12.5]);
  });
  it("handles interleaved channels independently", () => {
    const src = new Uint8Array([10, 20, 30, 30, 40, 50]); // 1×2 RGB
    expect(Array.from(resizeArea(src, 1, 2, 3, 1, 1))).toEqual([20, 30, 40]);
  });
  it("is the identity at the same size", () => {
    const src = Float32Array.from({ length: 12 }, (_, i) => i * 1.5);
    expect(Array.from(resizeArea(src, 3, 4, 1, 3, 4))).toEqual(Array.from(src));
  });
});
