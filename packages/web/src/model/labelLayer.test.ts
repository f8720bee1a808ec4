import { describe, expect, it } from "vitest";
import {
  applyDiff,
  diffLayers,
  labelsToLayer,
  labelVoxelCounts,
  layerToLabels,
  withoutLabel,
} from "./labelLayer.js";

// 3 columns × 2 rows × 2 slices, input order (z, y, x).
const grid = { width: 3, height: 2, depth: 2 };
const labels = Uint16Array.of(1, 0, 2, 0, 3, 0, /* slice 1 */ 4, 4, 0, 0, 0, 5);

describe("label map ↔ drawing layer", () => {
  it("flips the rows of every slice (input row 0 is the display's top row) and back", () => {
    const layer = labelsToLayer(labels, grid);
    expect([...layer]).toEqual([0, 3, 0, 1, 0, 2, /* slice 1 */ 0, 0, 5, 4, 4, 0]);
    expect(layerToLabels(layer, grid)).toEqual(labels);
  });

  it("refuses labels the one-byte layer cannot hold and arrays of the wrong size", () => {
    expect(() => labelsToLayer(Uint16Array.of(256, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), grid)).toThrow(
      /label 256/,
    );
    expect(() => layerToLabels(new Uint8Array(5), grid)).toThrow(/5 labels for a 3×2×2 grid/);
  });

  it("keeps edits as sparse diffs that undo and redo", () => {
    const before = Uint8Array.of(0, 1, 1, 0);
    const after = Uint8Array.of(2, 1, 0, 0);
    const diff = diffLayers(before, after)!;
    expect([...diff.index]).toEqual([0, 2]);
    const layer = after.slice();
    applyDiff(layer, diff, "undo");
    expect(layer).toEqual(before);
    applyDiff(layer, diff, "redo");
    expect(layer).toEqual(after);
    expect(diffLayers(before, before.slice())).toBeNull();
  });

  it("clears a deleted box's voxels and renumbers the boxes after it", () => {
    expect([...withoutLabel(Uint8Array.of(0, 1, 2, 3, 2), 2)]).toEqual([0, 1, 0, 2, 0]);
    expect(labelVoxelCounts(Uint8Array.of(0, 1, 3, 3, 0))).toEqual([2, 1, 0, 2]);
  });
});
