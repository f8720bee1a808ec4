import { readNifti } from "@daft/core";
import { describe, expect, it } from "vitest";
import { flipRows, viewerNifti } from "./viewerNifti.js";

describe("the viewer's in-memory NIfTI", () => {
  it("holds the values with every slice's rows reversed and a plain voxel-size affine", () => {
    const values = Int16Array.of(1, 2, 3, 4, 5, 6, /* slice 1 */ 7, 8, 9, 10, 11, 12);
    const nifti = readNifti(
      viewerNifti({
        width: 3,
        height: 2,
        depth: 2,
        channels: 1,
        values,
        spacing: [0.5, 0.8, 3],
        invert: false,
      }),
      "view",
    );
    expect(nifti.dims).toEqual([3, 2, 2]);
    expect([...nifti.data]).toEqual([4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
    expect(nifti.affine.map((row) => row.map((v) => Number(v.toFixed(6))))).toEqual([
      [0.5, 0, 0, 0],
      [0, 0.8, 0, 0],
      [0, 0, 3, 0],
      [0, 0, 0, 1],
    ]);
  });

  it("stores RGB pictures as RGB24 (datatype 128, 24 bits, 3-byte voxels)", () => {
    const rgb = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
    const bytes = viewerNifti({
      width: 2,
      height: 2,
      depth: 1,
      channels: 3,
      values: rgb,
      spacing: [1, 1, 1],
      invert: false,
    });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([view.getInt16(42, true), view.getInt16(44, true), view.getInt16(46, true)]).toEqual([2, 2, 1]);
    expect(view.getInt16(70, true)).toBe(128);
    expect(view.getInt16(72, true)).toBe(24);
    expect([...bytes.subarray(352)]).toEqual([6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5]);
  });

  it("shows 16-bit RGB (a PNG, NRRD or MetaImage) as RGB24 scaled to 0..255", () => {
    const rgb = Uint16Array.of(0, 1000, 65535, 500, 0, 0);
    const bytes = viewerNifti({
      width: 2,
      height: 1,
      depth: 1,
      channels: 3,
      values: rgb,
      spacing: [1, 1, 1],
      invert: false,
    });
    expect(new DataView(bytes.buffer, bytes.byteOffset).getInt16(70, true)).toBe(128);
    expect([...bytes.subarray(352)]).toEqual([0, 4, 255, 2, 0, 0]);
  });

  it("flips rows of any typed array without changing the input", () => {
    const values = Float32Array.of(1, 2, 3, 4);
    expect([...flipRows(values, 1, 4, 1)]).toEqual([4, 3, 2, 1]);
    expect([...values]).toEqual([1, 2, 3, 4]);
  });
});
