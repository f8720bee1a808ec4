import { describe, expect, it } from "vitest";
import { boxMask } from "../testing/masks.js";
import { normalizedSurfaceDice } from "./nsd.js";

function ballMask(shape: number[], center: number[], radius: number): Uint8Array {
  const [, n1, n2] = shape as [number, number, number];
  return Uint8Array.from({ length: shape[0]! * n1 * n2 }, (_, i) => {
    const p = [Math.floor(i / (n1 * n2)), Math.floor(i / n2) % n1, i % n2];
    return p.reduce((acc, c, k) => acc + (c - center[k]!) ** 2, 0) <= radius * radius ? 1 : 0;
  });
}

const HALF_DIAGONAL = Math.SQRT1_2; // contour length of a cut corner at spacing (1, 1)

describe("normalizedSurfaceDice, 2D contours", () => {
  const shape = [24, 24];
  const square = boxMask(shape, [5, 5], [14, 14]); // 10×10 px; corners span [5, 15]²

  it("is 1 for identical masks and 0 for far-apart ones", () => {
    expect(normalizedSurfaceDice(square, square, shape, [1, 1], 2)).toBe(1);
    const far = boxMask(shape, [18, 18], [22, 22]);
    expect(normalizedSurfaceDice(far, square, shape, [1, 1], 2)).toBe(0);
  });

  it("is 1 for a 1 px shift: every contour point is within 1 px ≤ 2 px", () => {
    const shifted = boxMask(shape, [5, 6], [14, 15]);
    expect(normalizedSurfaceDice(shifted, square, shape, [1, 1], 2)).toBe(1);
  });

  it("matches the hand count for a 3 px shift", () => {
    // Contour of each square: 36 straight unit pieces + 4 cut corners = 36 + 2√2.
    // Square A corner columns 5..15, B (shifted right by 3) 8..18. From A: the 9 left-side pieces
    // (3 px from B) and the two left cut corners are out; of the 9 right-side pieces only the 4 within
    // 2 rows of the top/bottom sides are in (nearest B points are B's top/bottom sides).
    // In: top 9 + bottom 9 + right 4 + 2 right corners = 22 + √2. B is the mirror image.
    const shifted = boxMask(shape, [5, 8], [14, 17]);
    const expected = (2 * (22 + 2 * HALF_DIAGONAL)) / (2 * (36 + 4 * HALF_DIAGONAL));
    expect(normalizedSurfaceDice(shifted, square, shape, [1, 1], 2)).toBeCloseTo(expected, 12);
    // With a 3 px tolerance everything is within reach.
    expect(normalizedSurfaceDice(shifted, square, shape, [1, 1], 3)).toBe(1);
  });

  it("handles empty masks: both empty → 1, one empty → 0", () => {
    const empty = new Uint8Array(square.length);
    expect(normalizedSurfaceDice(empty, empty, shape, [1, 1], 2)).toBe(1);
    expect(normalizedSurfaceDice(empty, square, shape, [1, 1], 2)).toBe(0);
    expect(normalizedSurfaceDice(square, empty, shape, [1, 1], 2)).toBe(0);
  });
});

describe("normalizedSurfaceDice, 2D as the challenge scored it: (H, W, 1) slabs", () => {
  it("counts the slab's top and bottom faces, so a 3 px shift loses only the far column", () => {
    const shape = [24, 24, 1];
    const a = boxMask(shape, [5, 5, 0], [14, 14, 0]);
    const b = boxMask(shape, [5, 8, 0], [14, 17, 0]);
    // Per corner layer (two identical layers): 81 interior corners with a unit face, 36 edge corners
    // with a quad of area √2/2, 4 box corners with a triangle of area √3/8. Out of reach (3 px) are
    // only A's left column: 9 edge corners + 2 box corners (and B's mirror-image right column).
    const total = 81 + 36 * HALF_DIAGONAL + (4 * Math.sqrt(3)) / 8;
    const out = 9 * HALF_DIAGONAL + (2 * Math.sqrt(3)) / 8;
    expect(normalizedSurfaceDice(b, a, shape, [1, 1, 1], 2)).toBeCloseTo((total - out) / total, 12);
  });
});

describe("normalizedSurfaceDice, 3D with anisotropic spacing", () => {
  it("matches the hand count for two boxes one slice apart at spacing (3, 1, 1)", () => {
    const shape = [9, 11, 11];
    const a = boxMask(shape, [2, 2, 2], [5, 7, 7]); // 4 slices of 6×6
    const b = boxMask(shape, [3, 2, 2], [6, 7, 7]); // shifted one slice (3 mm) along axis 0
    const [s0, s1, s2] = [3, 1, 1];
    const faceZ = s1 * s2; // face-interior corner, face ⊥ axis 0
    const faceSide = s0 * s2; // ⊥ axis 1 or 2
    const edgeZ = s0 * 0.5 * Math.hypot(s1, s2); // edge along axis 0
    const edgeXY = s1 * 0.5 * Math.hypot(s0, s2); // edge along axis 1 or 2
    const corner = 0.125 * Math.sqrt((s1 * s2) ** 2 + (s0 * s2) ** 2 + (s0 * s1) ** 2);
    const total = 2 * 25 * faceZ + 4 * 15 * faceSide + 4 * 3 * edgeZ + 8 * 5 * edgeXY + 8 * corner;
    // A's bottom face (interior, rim edges, corners) is 3 mm from B; so is the centre corner of A's top
    // face (3 mm to B's top face and 3 px from B's sides); everything else touches B's surface or lies
    // within 2 px of B's sides. B is the mirror image.
    const out = 25 * faceZ + 4 * 5 * edgeXY + 4 * corner + faceZ;
    const nsd = normalizedSurfaceDice(b, a, shape, [s0, s1, s2], 2);
    expect(nsd).toBeCloseTo((total - out) / total, 12);
    // At spacing 1 the same shift is within tolerance everywhere.
    expect(normalizedSurfaceDice(b, a, shape, [1, 1, 1], 2)).toBe(1);
  });

  it("loses the flat parts of a sphere shifted by one 3 mm slice, but not at 1 mm spacing", () => {
    const shape = [16, 24, 24];
    const a = ballMask(shape, [7, 11.5, 11.5], 6);
    const b = ballMask(shape, [8, 11.5, 11.5], 6);
    const anisotropic = normalizedSurfaceDice(b, a, shape, [3, 1, 1], 2);
    expect(anisotropic).toBeLessThan(1);
    // Reference: DeepMind's compute_surface_distances + compute_surface_dice_at_tolerance (scipy EDT)
    // on the same two balls gives 0.9535104998625025.
    expect(anisotropic).toBeCloseTo(0.9535104998625025, 12);
    // Every surfel of B has A's surfel at the same in-plane position one slice away: ≤ 3 mm.
    expect(normalizedSurfaceDice(b, a, shape, [3, 1, 1], 3)).toBe(1);
    expect(normalizedSurfaceDice(b, a, shape, [1, 1, 1], 2)).toBe(1);
  });

  it("rejects a tolerance below zero and arrays that do not fit the shape", () => {
    const m = new Uint8Array(8);
    expect(() => normalizedSurfaceDice(m, m, [2, 2, 2], [1, 1, 1], -1)).toThrow(/tolerance/);
    expect(() => normalizedSurfaceDice(m, m, [2, 2, 3], [1, 1, 1], 2)).toThrow(/needs 12/);
  });
});
