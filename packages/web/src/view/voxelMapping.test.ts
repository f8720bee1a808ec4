import { describe, expect, it } from "vitest";
import {
  canvasToVoxel,
  clientToCanvas,
  tileAt,
  voxelIndex,
  voxelRectOnCanvas,
  voxelToCanvas,
  type SliceTile,
  type VoxelGrid,
} from "./voxelMapping.js";

// A 40×20 image with 0.5 × 2 mm voxels: it spans x −0.25…19.75 mm, display y −1…39 mm (voxel centres at i·sx).
const grid: VoxelGrid = { width: 40, height: 20, depth: 1, spacing: [0.5, 2, 1] };
/** niivue's axial tile fitting the image exactly: 200 × 400 canvas pixels at (10, 30) → 10 px per mm. */
const axial: SliceTile = {
  leftTopWidthHeight: [10, 30, 200, 400],
  axCorSag: 0,
  leftTopMM: [-0.25, -1],
  fovMM: [20, 40],
};

describe("canvas ↔ voxel on niivue's tiles", () => {
  it("maps voxel centres and edges of the axial view, input row 0 at the top", () => {
    // Voxel (0, 0)'s outer corner is the tile's top-left corner; voxel (39, 19)'s is its bottom-right.
    expect(canvasToVoxel([10, 30], axial, grid)).toMatchObject({ axes: ["x", "y"], u: -0.5, v: -0.5 });
    expect(canvasToVoxel([210, 430], axial, grid)).toMatchObject({ u: 39.5, v: 19.5 });
    // Voxel (3, 2)'s centre: x = 3·0.5 mm = 1.5 mm → 10 + (1.5 + 0.25)·10 = 27.5 px; row 2 is 2.5 rows down → 80 px.
    const centre = canvasToVoxel([27.5, 80], axial, grid);
    expect(centre.u).toBeCloseTo(3, 10);
    expect(centre.v).toBeCloseTo(2, 10);
    expect(voxelToCanvas(3, 2, axial, grid)).toEqual([27.5, 80]);
  });

  it("snaps a point to the voxel that holds it and clamps off-image points to the border voxels", () => {
    const at = (x: number, y: number) => {
      const { u, v } = canvasToVoxel([x, y], axial, grid);
      return [voxelIndex(u, grid.width), voxelIndex(v, grid.height)];
    };
    expect(at(10.1, 30.1)).toEqual([0, 0]);
    expect(at(14.9, 49.9)).toEqual([0, 0]); // still inside voxel (0, 0): 5 px wide, 20 px tall
    expect(at(15.1, 50.1)).toEqual([1, 1]);
    expect(at(209.9, 429.9)).toEqual([39, 19]);
    expect(at(0, 500)).toEqual([0, 19]);
  });

  it("inverts exactly, also on mirrored (radiological) tiles", () => {
    const mirrored: SliceTile = { ...axial, leftTopWidthHeight: [210, 30, -200, 400] };
    for (const tile of [axial, mirrored]) {
      for (const [u, v] of [
        [0, 0],
        [12.25, 7.5],
        [39, 19],
      ] as const) {
        const back = canvasToVoxel(voxelToCanvas(u, v, tile, grid), tile, grid);
        expect(back.u).toBeCloseTo(u, 9);
        expect(back.v).toBeCloseTo(v, 9);
      }
    }
    // Mirrored: voxel 0 is at the right edge.
    expect(voxelToCanvas(-0.5, -0.5, mirrored, grid)).toEqual([210, 30]);
  });

  it("maps coronal (x, z) and sagittal (y, z) tiles, slice 0 at the bottom", () => {
    const volume: VoxelGrid = { width: 10, height: 8, depth: 6, spacing: [1, 1, 2] };
    const coronal: SliceTile = {
      leftTopWidthHeight: [0, 0, 100, 120],
      axCorSag: 1,
      leftTopMM: [-0.5, -1],
      fovMM: [10, 12],
    };
    const top = canvasToVoxel([0, 0], coronal, volume);
    expect(top).toMatchObject({ axes: ["x", "z"], u: -0.5, v: 5.5 });
    const sagittal: SliceTile = { ...coronal, axCorSag: 2, leftTopMM: [-0.5, -1], fovMM: [8, 12] };
    // Sagittal x runs along display y (anterior = up in the axial view = input row 0), so input row = 7 − mm.
    const left = canvasToVoxel([0, 120], sagittal, volume);
    expect(left).toMatchObject({ axes: ["y", "z"], u: 7.5, v: -0.5 });
  });

  it("gives the canvas rectangle of a voxel box and finds the tile under a point", () => {
    const rect = voxelRectOnCanvas([1, 2], [0, 0], axial, grid);
    [15, 30, 10, 20].forEach((v, i) => expect(rect[i]).toBeCloseTo(v, 9));
    const tiles = [{ ...axial, axCorSag: 4 }, axial];
    expect(tileAt([100, 100], tiles)).toBe(1);
    expect(tileAt([300, 100], tiles)).toBe(-1);
  });

  it("turns client coordinates into canvas pixels of a CSS-scaled canvas", () => {
    const rect = { left: 100, top: 50, width: 400, height: 300 };
    expect(clientToCanvas([300, 200], rect, { width: 800, height: 600 })).toEqual([400, 300]);
  });
});
