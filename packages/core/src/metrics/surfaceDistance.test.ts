import { describe, expect, it } from "vitest";
import { boxMask } from "../testing/masks.js";
import { surfaceDistances, surfaceOverlapInBox, unionBoundingBox } from "./surfaceDistance.js";

const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);

/**
 * Surface of an a×b×c voxel box on the corner grid, by hand: face-interior corners carry a
 * face-parallel square, edge corners a quad (edge length × half the diagonal of the other two
 * spacings), the 8 box corners a triangle ⅛·√(s1²s2² + s0²s2² + s0²s1²).
 */
function boxSurface([a, b, c]: number[], [s0, s1, s2]: number[]): number {
  const faces =
    2 * ((b! - 1) * (c! - 1) * s1! * s2! + (a! - 1) * (c! - 1) * s0! * s2! + (a! - 1) * (b! - 1) * s0! * s1!);
  const edges =
    4 *
    ((a! - 1) * s0! * 0.5 * Math.hypot(s1!, s2!) +
      (b! - 1) * s1! * 0.5 * Math.hypot(s0!, s2!) +
      (c! - 1) * s2! * 0.5 * Math.hypot(s0!, s1!));
  const corners = 8 * 0.125 * Math.sqrt((s1! * s2!) ** 2 + (s0! * s2!) ** 2 + (s0! * s1!) ** 2);
  return faces + edges + corners;
}

describe("surface geometry", () => {
  it("measures the contour of an axis-aligned rectangle: straight sides plus 4 cut corners", () => {
    const shape = [12, 15];
    const mask = boxMask(shape, [2, 3], [5, 11]); // 4 rows × 9 columns
    for (const [s0, s1] of [
      [1, 1],
      [0.5, 2],
    ]) {
      const d = surfaceDistances(mask, mask, shape, [s0!, s1!]);
      const expected = 2 * (9 - 1) * s1! + 2 * (4 - 1) * s0! + 4 * 0.5 * Math.hypot(s0!, s1!);
      expect(sum(d.surfelAreasA)).toBeCloseTo(expected, 12);
      expect([...d.distancesAToB].every((x) => x === 0)).toBe(true);
    }
  });

  it("measures the surface of a box with anisotropic spacing", () => {
    const shape = [8, 9, 10];
    const mask = boxMask(shape, [1, 2, 3], [4, 7, 5]); // 4 × 6 × 3 voxels
    for (const spacing of [
      [1, 1, 1],
      [3, 1, 1],
      [2.5, 0.7, 1.3],
    ]) {
      const d = surfaceDistances(mask, new Uint8Array(mask.length), shape, spacing);
      expect(sum(d.surfelAreasA)).toBeCloseTo(boxSurface([4, 6, 3], spacing), 10);
      expect(d.surfelAreasB.length).toBe(0);
      expect([...d.distancesAToB].every((x) => x === Infinity)).toBe(true);
    }
  });

  it("gives distances equal to a brute-force nearest-surfel search", () => {
    const shape = [6, 8, 9];
    const spacing = [3, 1, 0.8];
    const a = boxMask(shape, [1, 1, 1], [3, 5, 6]);
    const b = boxMask(shape, [2, 2, 3], [4, 6, 7]);
    const d = surfaceDistances(a, b, shape, spacing);
    const full = surfaceDistances(a, a, shape, spacing); // same surfel order as A
    const fullB = surfaceDistances(b, b, shape, spacing);
    expect(d.surfelAreasA).toEqual(full.surfelAreasA);
    expect(d.distancesAToB.length).toBe(full.distancesAToB.length);
    // Recompute A's and B's surfel corners by brute force via the box-corner structure.
    const corners = (lo: number[], hi: number[]) => {
      const pts: number[][] = [];
      for (let z = lo[0]!; z <= hi[0]! + 1; z++)
        for (let y = lo[1]!; y <= hi[1]! + 1; y++)
          for (let x = lo[2]!; x <= hi[2]! + 1; x++) {
            const onBoundary = [z, y, x].some((c, k) => c === lo[k] || c === hi[k]! + 1);
            if (onBoundary) pts.push([z, y, x]);
          }
      return pts;
    };
    const pa = corners([1, 1, 1], [3, 5, 6]);
    const pb = corners([2, 2, 3], [4, 6, 7]);
    expect(pa.length).toBe(d.distancesAToB.length);
    expect(pb.length).toBe(fullB.distancesAToB.length);
    const expected = pa.map((p) =>
      Math.min(...pb.map((q) => Math.hypot(...p.map((c, k) => (c - q[k]!) * spacing[k]!)))),
    );
    // Both lists are in C order of the union box's corner grid.
    expect([...d.distancesAToB].map((x) => x.toFixed(9))).toEqual(expected.map((x) => x.toFixed(9)));
  });
});

describe("surfaceOverlapInBox", () => {
  it("selects voxels by label inside a label map", () => {
    const shape = [10, 10];
    const labels = new Uint16Array(100);
    labels.set([3, 3, 3], 22); // row 2, columns 2..4
    const gt = { data: labels, label: 3 };
    const box = unionBoundingBox(gt, gt, shape)!;
    expect(box).toEqual({ lo: [2, 2], hi: [2, 4] });
    const o = surfaceOverlapInBox(gt, gt, shape, [1, 1], box, 0);
    // 1×3 row: sides along axis 1: 2·(3−1)·1, sides along axis 0: 0, 4 cut corners of length √2/2
    expect(o.areaA).toBeCloseTo(4 + 2 * Math.SQRT2, 12);
    expect(o.areaAWithin).toBeCloseTo(o.areaA, 12);
  });
});

describe("surfaceOverlapInBox methods", () => {
  it("agrees with thresholding the full distance lists (offset probing and capped EDT alike)", () => {
    // Pseudo-random blobs: union of boxes, so surfels are irregular; both grid-border and interior surfels.
    let state = 42;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const shape = [12, 20, 22];
    const paint = (mask: Uint8Array) => {
      for (let k = 0; k < 6; k++) {
        const lo = shape.map((n) => Math.floor(next() * (n - 4)));
        const hi = lo.map((l, a) => Math.min(shape[a]! - 1, l + 1 + Math.floor(next() * 8)));
        const box = boxMask(shape, lo, hi);
        for (let i = 0; i < mask.length; i++) mask[i] ||= box[i]!;
      }
      return mask;
    };
    const a = paint(new Uint8Array(12 * 20 * 22));
    const b = paint(new Uint8Array(12 * 20 * 22));
    for (const [spacing, tolerance] of [
      [[3, 1, 1], 2],
      [[1, 0.7, 0.7], 2],
      [[0.2, 0.2, 0.2], 2], // tolerance of 10 voxels: the EDT path
      [[1, 1, 1], 0],
    ] as [number[], number][]) {
      const d = surfaceDistances(a, b, shape, spacing);
      const within = (dist: Float64Array, area: Float64Array) =>
        dist.reduce((acc, x, i) => acc + (x <= tolerance ? area[i]! : 0), 0);
      const ra = { data: a, label: null };
      const rb = { data: b, label: null };
      const o = surfaceOverlapInBox(ra, rb, shape, spacing, unionBoundingBox(ra, rb, shape)!, tolerance);
      expect(o.areaA).toBeCloseTo(sum(d.surfelAreasA), 9);
      expect(o.areaAWithin).toBeCloseTo(within(d.distancesAToB, d.surfelAreasA), 9);
      expect(o.areaBWithin).toBeCloseTo(within(d.distancesBToA, d.surfelAreasB), 9);
    }
  });
});
