import { describe, expect, it } from "vitest";
import { evaluateCase } from "./evaluateCase.js";
import {
  bandSliceCounts,
  formatSlicePositionMarkdown,
  summarizeBySlicePosition,
  type SlicePositionCounts,
} from "./slicePosition.js";

describe("bandSliceCounts", () => {
  it("bands slices by distance from the nearer end of the ground-truth extent", () => {
    // Extent z = 1..10 (10 slices): positions 0.05 … 0.95; ends = z 1, 2, 9, 10; 20–40 % = 3, 4, 7, 8; middle = 5, 6.
    const gt = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0];
    const pred = [4, 2, 2, 3, 4, 5, 6, 7, 8, 9, 12, 0, 1];
    const both = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0];
    expect(bandSliceCounts(gt, pred, both)).toEqual({
      slices: [4, 4, 2, 2], // slice 11 has no prediction: not counted
      gtVoxels: [1 + 2 + 9 + 10, 3 + 4 + 7 + 8, 5 + 6, 0],
      predVoxels: [2 + 2 + 9 + 12, 3 + 4 + 7 + 8, 5 + 6, 4 + 1],
      bothVoxels: [1 + 2 + 9 + 10, 3 + 4 + 7 + 8, 5 + 6, 0],
    });
  });

  it("puts a one-slice object in the middle band and is null without ground truth", () => {
    expect(bandSliceCounts([0, 3, 0], [0, 3, 0], [0, 3, 0])?.slices).toEqual([0, 0, 1, 0]);
    expect(bandSliceCounts([0, 0], [1, 1], [0, 0])).toBeNull();
  });
});

describe("summarizeBySlicePosition", () => {
  it("sums bands over the objects of a modality, DSC and ratio of the sums", () => {
    const a: SlicePositionCounts = {
      slices: [2, 2, 1, 0],
      gtVoxels: [10, 20, 30, 0],
      predVoxels: [20, 20, 30, 0],
      bothVoxels: [10, 20, 30, 0],
    };
    const b: SlicePositionCounts = {
      slices: [2, 0, 1, 1],
      gtVoxels: [10, 0, 10, 0],
      predVoxels: [30, 0, 10, 5],
      bothVoxels: [10, 0, 10, 0],
    };
    const rows = summarizeBySlicePosition([
      { modality: "MR", counts: a },
      { modality: "MR", counts: b },
      { modality: "CT", counts: a },
    ]);
    expect(rows.map((r) => `${r.modality} ${r.position}`)).toEqual([
      "CT ends (outer 20 %)",
      "CT 20–40 % from an end",
      "CT middle 20 %",
      "MR ends (outer 20 %)",
      "MR 20–40 % from an end",
      "MR middle 20 %",
      "MR outside the object's slices",
    ]);
    const mrEnds = rows[3]!;
    expect(mrEnds).toMatchObject({ objects: 2, slices: 4, gtVoxels: 20, predVoxels: 50, volumeRatio: 2.5 });
    expect(mrEnds.dsc).toBeCloseTo((2 * 20) / 70, 12);
    expect(rows[6]).toMatchObject({
      objects: 1,
      slices: 1,
      gtVoxels: 0,
      predVoxels: 5,
      dsc: 0,
      volumeRatio: null,
    });
    const table = formatSlicePositionMarkdown(rows);
    expect(table).toContain("| MR | ends (outer 20 %) | 2 | 4 | 20 | 50 | 0.5714 | 2.500 |");
    expect(table).toContain("| MR | outside the object's slices | 1 | 1 | 0 | 5 | 0.0000 | – |");
  });
});

describe("evaluateCase slice positions", () => {
  it("counts a 3D label per slice and leaves 2D cases without them", () => {
    // 5 slices of 2×2: gt label 1 on slices 0–4 (one voxel each), prediction fills slice 0 and 4 (4 voxels each).
    const shape = [5, 2, 2];
    const gt = new Uint8Array(20);
    const pred = new Uint8Array(20);
    for (let z = 0; z < 5; z++) gt[z * 4] = 1;
    for (let z = 1; z < 4; z++) pred[z * 4] = 1;
    pred.fill(1, 0, 4);
    pred.fill(1, 16, 20);
    const m = evaluateCase({ gt, pred, shape, spacing: [1, 1, 1] });
    // Bands: z 0, 4 ends; z 1, 3 second; z 2 middle.
    expect(m.labels[0]!.slicePosition).toEqual({
      slices: [2, 2, 1, 0],
      gtVoxels: [2, 2, 1, 0],
      predVoxels: [8, 2, 1, 0],
      bothVoxels: [2, 2, 1, 0],
    });
    const flat = evaluateCase({ gt: gt.subarray(0, 4), pred: pred.subarray(0, 4), shape: [2, 2] });
    expect(flat.labels[0]!.slicePosition).toBeUndefined();
  });
});
