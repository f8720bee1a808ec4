import { describe, expect, it } from "vitest";
import { affineFromColumns, applyAffine, type Affine, type Vec3 } from "../image/geometry.js";
import { inputErrorLine } from "../testing/inputErrors.js";
import { voxelBoxes, type BoxTarget } from "./voxelBoxes.js";

const volume = (affine: Affine, space: "RAS" | "LPS" = "RAS"): BoxTarget => ({
  source: "scan.nii.gz",
  dimension: 3,
  width: 40,
  height: 30,
  depth: 20,
  what: "a NIfTI image",
  geometry: { affine, space, positioned: true },
});

/** A picture: 2D, no place in patient space. */
const PICTURE: BoxTarget = {
  source: "p.png",
  dimension: 2,
  width: 8,
  height: 6,
  depth: 1,
  what: "a picture",
};

/** The two world corners of voxel box [i0,j0,k0,i1,j1,k1] (voxel centres) through `affine`. */
function worldCorners(affine: Affine, box: number[]): number[] {
  return [...applyAffine(affine, box.slice(0, 3) as Vec3), ...applyAffine(affine, box.slice(3) as Vec3)];
}

const deg = Math.PI / 180;
const c30 = Math.cos(30 * deg);
const s30 = Math.sin(30 * deg);
const AFFINES: [string, Affine][] = [
  ["axis-aligned", affineFromColumns([0.8, 0, 0], [0, 0.8, 0], [0, 0, 2.5], [-16, -12, 10])],
  [
    "x and y flipped (LPS-stored RAS)",
    affineFromColumns([-0.8, 0, 0], [0, -0.8, 0], [0, 0, 2.5], [16, 12, -20]),
  ],
  ["k flipped", affineFromColumns([0.7, 0, 0], [0, 0.9, 0], [0, 0, -3], [0, 0, 60])],
  [
    "oblique (30° about z, x flipped)",
    affineFromColumns(
      [-0.7 * c30, -0.7 * s30, 0],
      [-0.9 * s30, 0.9 * c30, 0],
      [0, 0, 2.5],
      [40.5, -12.25, 7],
    ),
  ],
  ["permuted (sagittal storage)", affineFromColumns([0, 0, 1.5], [0, -1, 0], [-0.5, 0, 0], [5, 20, -30])],
];

describe("voxel boxes", () => {
  it("are used as given when their width matches the input", () => {
    expect(voxelBoxes([[1, 2, 3, 4, 5, 6]], volume(AFFINES[0]![1]), false)).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it("a 2D box for a volume (and the reverse) is refused with the expected form", () => {
    expect(inputErrorLine(() => voxelBoxes([[1, 2, 3, 4]], volume(AFFINES[0]![1]), false))).toBe(
      "scan.nii.gz: box 0 has 4 numbers but the input is 3D (W×H×D = 40×30×20); give x0,y0,z0,x1,y1,z1",
    );
    expect(inputErrorLine(() => voxelBoxes([[1, 2, 0, 4, 5, 0]], PICTURE, false))).toMatch(
      /input is 2D .* x0,y0,x1,y1$/,
    );
  });
});

describe("world boxes land on the right voxels", () => {
  for (const [name, affine] of AFFINES) {
    it(name, () => {
      const wanted = [3, 4, 2, 17, 25, 11];
      // Corners given in either order and nudged by less than half a voxel still give the same voxels.
      const corners = worldCorners(affine, wanted);
      expect(voxelBoxes([corners], volume(affine), true)).toEqual([wanted]);
      const swapped = [...corners.slice(3), ...corners.slice(0, 3)];
      expect(voxelBoxes([swapped], volume(affine), true)).toEqual([wanted]);
      const nudged = worldCorners(affine, [3.3, 3.6, 2.4, 16.6, 25.4, 10.7]);
      expect(voxelBoxes([nudged], volume(affine), true)).toEqual([wanted]);
    });
  }

  it("mixed corners of an oblique box: the per-axis min and max of both converted corners", () => {
    const affine = AFFINES[3]![1];
    const corners = worldCorners(affine, [17, 4, 11, 3, 25, 2]); // i and k maxima in the first corner
    expect(voxelBoxes([corners], volume(affine), true)).toEqual([[3, 4, 2, 17, 25, 11]]);
  });

  it("reaching the image's edge (half a voxel past the last centre) is inside; further is an error", () => {
    const affine = AFFINES[1]![1];
    const edge = worldCorners(affine, [-0.5, -0.5, -0.5, 39.5, 29.5, 19.5]);
    expect(voxelBoxes([edge], volume(affine), true)).toEqual([[0, 0, 0, 39, 29, 19]]);
    const past = worldCorners(affine, [0, 0, 0, 41, 10, 10]);
    expect(inputErrorLine(() => voxelBoxes([past], volume(affine), true))).toMatch(
      /^scan\.nii\.gz: --world box 0 \[.*\] mm \(RAS\) maps to voxels \(0, 0, 0\)–\(41, 10, 10\), outside the image \(W×H×D = 40×30×20\)$/,
    );
  });

  it("world boxes are 6 numbers; pictures and unpositioned images refuse --world", () => {
    expect(inputErrorLine(() => voxelBoxes([[1, 2, 3, 4]], volume(AFFINES[0]![1], "LPS"), true))).toMatch(
      /--world box 0 has 4 numbers; world boxes are two 3D points in mm \(LPS\)/,
    );
    expect(inputErrorLine(() => voxelBoxes([[0, 0, 0, 1, 1, 0]], PICTURE, true))).toMatch(
      /^p\.png: --world needs an input placed in patient space .* this is a picture without one/,
    );
    const unplaced: BoxTarget = {
      ...PICTURE,
      source: "xc.dcm",
      what: "a DICOM image",
      geometry: { affine: AFFINES[0]![1], space: "LPS", positioned: false },
    };
    expect(inputErrorLine(() => voxelBoxes([[0, 0, 0, 1, 1, 0]], unplaced, true))).toMatch(
      /^xc\.dcm: --world needs/,
    );
  });

  it("2D images placed in space: the world box is projected on the image plane (z ignored)", () => {
    const affine = affineFromColumns([0, 0.5, 0], [0, 0, -0.5], [1, 0, 0], [12, -3, 40]); // a sagittal plane
    const target: BoxTarget = {
      source: "xray.dcm",
      dimension: 2,
      width: 16,
      height: 10,
      depth: 1,
      what: "a DICOM image",
      geometry: { affine, space: "LPS", positioned: true },
    };
    const corners = worldCorners(affine, [2, 3, 0, 9, 7, 0]);
    expect(voxelBoxes([corners], target, true)).toEqual([[2, 3, 9, 7]]);
  });
});
