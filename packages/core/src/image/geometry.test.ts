import { describe, expect, it } from "vitest";
import {
  affineDistance,
  affineFromColumns,
  applyAffine,
  flipXY,
  invertAffine,
  quaternionFromAffine,
  voxelSizes,
  type Affine,
  type Vec3,
} from "./geometry.js";

const deg = Math.PI / 180;
/** Rotation by `a` about z, then by `b` about x: an oblique orientation. */
function oblique(a: number, b: number, sizes: Vec3, origin: Vec3, flipK = false): Affine {
  const rz = [
    [Math.cos(a), -Math.sin(a), 0],
    [Math.sin(a), Math.cos(a), 0],
    [0, 0, 1],
  ];
  const rx = [
    [1, 0, 0],
    [0, Math.cos(b), -Math.sin(b)],
    [0, Math.sin(b), Math.cos(b)],
  ];
  const r = rx.map((row) => [0, 1, 2].map((c) => row.reduce((s, v, k) => s + v * rz[k]![c]!, 0)));
  const column = (c: number): Vec3 => [0, 1, 2].map((row) => r[row]![c]! * sizes[c]!) as Vec3;
  const k = column(2);
  return affineFromColumns(column(0), column(1), flipK ? (k.map((v) => -v) as Vec3) : k, origin);
}

/** NIfTI method 2, as nifti_quatern_to_mat44 and nibabel compute it. */
function affineFromQuaternion(q: ReturnType<typeof quaternionFromAffine>): Affine {
  const { b, c, d } = q;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const zooms = [q.pixdim[0], q.pixdim[1], q.pixdim[2] * q.qfac];
  return [0, 1, 2]
    .map((row) => [...[0, 1, 2].map((col) => r[row]![col]! * zooms[col]!), q.offset[row]!])
    .concat([[0, 0, 0, 1]]);
}

describe("affines", () => {
  it("invertAffine undoes an oblique, anisotropic affine", () => {
    const affine = oblique(30 * deg, -15 * deg, [0.7, 0.9, 2.5], [40, -12, 7]);
    const inverse = invertAffine(affine);
    const point: Vec3 = [3.25, -1, 17];
    const back = applyAffine(inverse, applyAffine(affine, point));
    back.forEach((v, i) => expect(v).toBeCloseTo(point[i]!, 10));
  });

  it("invertAffine refuses a singular affine", () => {
    const flat = affineFromColumns([1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]);
    expect(() => invertAffine(flat)).toThrowError(/singular/);
  });

  it("flipXY turns LPS into RAS: a point's x and y change sign", () => {
    const lps = oblique(10 * deg, 5 * deg, [1, 1, 3], [-100, 50, 20]);
    const p = applyAffine(lps, [4, 5, 6]);
    const q = applyAffine(flipXY(lps), [4, 5, 6]);
    expect(q[0]).toBeCloseTo(-p[0], 12);
    expect(q[1]).toBeCloseTo(-p[1], 12);
    expect(q[2]).toBeCloseTo(p[2], 12);
    expect(affineDistance(flipXY(flipXY(lps)), lps)).toBe(0);
  });

  it("voxelSizes are the column lengths", () => {
    const sizes = voxelSizes(oblique(30 * deg, 20 * deg, [0.7, 0.9, 2.5], [0, 0, 0]));
    sizes.forEach((v, i) => expect(v).toBeCloseTo([0.7, 0.9, 2.5][i]!, 12));
  });
});

describe("quaternionFromAffine", () => {
  const cases: [string, Affine][] = [
    ["identity", affineFromColumns([1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0])],
    ["oblique", oblique(30 * deg, -15 * deg, [0.7, 0.9, 2.5], [40, -12, 7])],
    ["left-handed (qfac -1)", oblique(30 * deg, 15 * deg, [0.7, 0.9, 2.5], [1, 2, 3], true)],
    ["a 180° turn (trace branch)", affineFromColumns([-1, 0, 0], [0, -1, 0], [0, 0, 2], [5, 6, 7])],
    [
      "LPS→RAS of an axial series",
      flipXY(affineFromColumns([0.8, 0, 0], [0, 0.8, 0], [0, 0, 3], [-200, -180, 40])),
    ],
    ["x flipped", affineFromColumns([-0.5, 0, 0], [0, 0.75, 0], [0, 0, 3], [0, 0, 0])],
    ["sagittal", affineFromColumns([0, 1, 0], [0, 0, -1], [-1.2, 0, 0], [10, 20, 30])],
  ];
  for (const [name, affine] of cases) {
    it(`round-trips ${name}`, () => {
      const q = quaternionFromAffine(affine);
      expect(affineDistance(affineFromQuaternion(q), affine)).toBeLessThan(1e-9);
    });
  }
});
