import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import { labelMapBoxes } from "../image/labelBoxes.js";
import { boxesFromLabelMap } from "./labelMapBoxes.js";
import type { BoxTarget } from "./voxelBoxes.js";

describe("labelMapBoxes", () => {
  it("boxes each label value's voxels, values in increasing order, and renumbers the map", () => {
    // 2 slices of 2 rows × 3 columns: value 4 at (0,0,0) and (2,1,1); value 2 at (1,0,1).
    const data = [4, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4];
    const { values, boxes, labels } = labelMapBoxes(data, [2, 2, 3], "m");
    expect(values).toEqual([2, 4]);
    expect(boxes).toEqual([
      [1, 0, 1, 1, 0, 1],
      [0, 0, 0, 2, 1, 1],
    ]);
    expect([...labels]).toEqual([2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
  });

  it("refuses values that are not labels", () => {
    expect(inputErrorLine(() => labelMapBoxes([0, 1.5], [1, 1, 2], "m.nii"))).toBe(
      "m.nii: holds 1.5 at voxel 1; labels are integers ≥ 0",
    );
    expect(inputErrorLine(() => labelMapBoxes([0, -1], [1, 1, 2], "m.nii"))).toBe(
      "m.nii: holds -1 at voxel 1; labels are integers ≥ 0",
    );
  });
});

describe("boxesFromLabelMap", () => {
  const target = (dimension: 2 | 3): BoxTarget => ({
    source: "ct.nii.gz",
    dimension,
    width: 3,
    height: 2,
    depth: dimension === 3 ? 2 : 1,
    what: "a NIfTI image",
    geometry: {
      affine: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 2, 0],
        [0, 0, 0, 1],
      ],
      space: "RAS",
      positioned: true,
    },
  });
  const map = (data: number[], shape: number[], rasAffine?: number[][]) => ({
    map: { data, shape, format: "nifti" as const, ...(rasAffine ? { rasAffine } : {}) },
    file: "ref.nii.gz",
  });

  it("gives --box numbers: 6 per box in 3D, 4 in 2D (a one-slice map of a 2D image is that slice)", () => {
    const data3 = [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    expect(boxesFromLabelMap(map(data3, [2, 2, 3]), target(3))).toEqual({ boxes: [[1, 0, 0, 2, 1, 1]] });
    expect(boxesFromLabelMap(map([0, 0, 3, 3, 0, 0], [1, 2, 3]), target(2))).toEqual({
      boxes: [[0, 0, 2, 1]],
    });
  });

  it("carries the names of the labels it boxes (a Slicer segmentation), unless they cannot name objects", () => {
    const named = (names: string[]) => ({
      ...map([0, 3, 0, 1, 0, 0], [1, 2, 3]),
      map: { ...map([0, 3, 0, 1, 0, 0], [1, 2, 3]).map, names },
    });
    // Labels 1 and 3 are present: boxes 1 and 2 take names 1 and 3.
    expect(boxesFromLabelMap(named(["liver", "unused", "tumour"]), target(2))).toEqual({
      boxes: [
        [0, 1, 0, 1],
        [1, 0, 1, 0],
      ],
      names: ["liver", "tumour"],
    });
    expect(boxesFromLabelMap(named(["a,b", "x", "c"]), target(2)).names).toBeUndefined();
    expect(boxesFromLabelMap(named(["same", "x", "same"]), target(2)).names).toBeUndefined();
    expect(boxesFromLabelMap(named(["only one"]), target(2)).names).toBeUndefined();
  });

  it("refuses a map off the input's grid and a map without labels, naming the map", () => {
    expect(inputErrorLine(() => boxesFromLabelMap(map([1, 0, 0], [1, 3]), target(2)))).toBe(
      "ref.nii.gz: shape (1, 3) does not match the input's (2, 3)",
    );
    const shifted = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 2, 5],
      [0, 0, 0, 1],
    ];
    expect(
      inputErrorLine(() => boxesFromLabelMap(map(new Array(12).fill(1), [2, 2, 3], shifted), target(3))),
    ).toBe(
      "ref.nii.gz: placed 5 mm away from the input ct.nii.gz on the same voxel grid (a different affine); " +
        "resample it onto the input's grid first",
    );
    expect(inputErrorLine(() => boxesFromLabelMap(map(new Array(12).fill(0), [2, 2, 3]), target(3)))).toBe(
      "ref.nii.gz: has no labelled voxel: no box to segment",
    );
  });
});
