import { describe, expect, it } from "vitest";
import { squaredDistanceTransform } from "./edt.js";

function bruteForce(mask: Uint8Array, shape: number[], spacing: number[]): Float64Array {
  const [, n1, n2] = shape as [number, number, number];
  const out = new Float64Array(mask.length).fill(Infinity);
  const features: number[][] = [];
  for (let i = 0; i < mask.length; i++)
    if (mask[i]) features.push([Math.floor(i / (n1 * n2)), Math.floor(i / n2) % n1, i % n2]);
  for (let i = 0; i < mask.length; i++) {
    const p = [Math.floor(i / (n1 * n2)), Math.floor(i / n2) % n1, i % n2];
    for (const f of features) {
      const d = p.reduce((acc, x, a) => acc + ((x - f[a]!) * spacing[a]!) ** 2, 0);
      if (d < out[i]!) out[i] = d;
    }
  }
  return out;
}

function randomMask(size: number, density: number, seed: number): Uint8Array {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Uint8Array.from({ length: size }, () => (next() < density ? 1 : 0));
}

describe("squaredDistanceTransform", () => {
  it("equals brute force with anisotropic spacing", () => {
    const shape = [7, 9, 11];
    const spacing = [3, 1, 0.7];
    for (const [density, seed] of [
      [0.02, 1],
      [0.1, 2],
      [0.5, 3],
    ] as const) {
      const mask = randomMask(7 * 9 * 11, density, seed);
      const expected = bruteForce(mask, shape, spacing);
      const actual = squaredDistanceTransform(mask, shape, spacing);
      for (let i = 0; i < mask.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, 9);
    }
  });

  it("works in 2D and returns Infinity everywhere without features", () => {
    const mask = new Uint8Array(12);
    expect([...squaredDistanceTransform(mask, [3, 4], [1, 1])].every((v) => v === Infinity)).toBe(true);
    mask[5] = 1; // (1, 1)
    const d = squaredDistanceTransform(mask, [3, 4], [2, 1]);
    expect(d[0]).toBe(4 + 1); // (0,0): Δ = (1,1)·(2,1)
    expect(d[11]).toBe(4 + 4); // (2,3): Δ = (1,2)·(2,1)
  });

  it("reports distances beyond maxDistance as Infinity and keeps the others exact", () => {
    const mask = new Uint8Array(10);
    mask[0] = 1;
    const d = squaredDistanceTransform(mask, [1, 10], [1, 1], 2);
    expect([...d.subarray(0, 3)]).toEqual([0, 1, 4]);
    expect([...d.subarray(3)].every((v) => v === Infinity)).toBe(true);
  });
});
