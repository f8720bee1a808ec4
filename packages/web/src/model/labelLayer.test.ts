import { describe, expect, it } from "vitest";
import {
  applyDiff,
  applyStroke,
  diffLabels,
  labelsToLayer,
  labelVoxelCounts,
  MAX_LABEL,
  PEN_BYTE,
  showLabelsAt,
  viewByte,
  withoutAnyLabel,
  withoutLabel,
} from "./labelLayer.js";

// 3 columns × 2 rows × 2 slices, input order (z, y, x).
const grid = { width: 3, height: 2, depth: 2 };
const labels = Uint16Array.of(1, 0, 2, 0, 3, 0, /* slice 1 */ 4, 4, 0, 0, 0, 5);

describe("the drawing layer as a view of the uint16 label map", () => {
  it("shows label l with byte 1…254, repeating every 254 boxes, and never with the brush's byte", () => {
    expect([0, 1, 2, 254, 255, 256, 300, 508, 509, MAX_LABEL].map(viewByte)).toEqual([
      0, 1, 2, 254, 1, 2, 46, 254, 1, 3,
    ]);
    for (let label = 1; label <= MAX_LABEL; label++) {
      const byte = viewByte(label);
      if (byte < 1 || byte >= PEN_BYTE) throw new Error(`label ${label} shown with byte ${byte}`);
    }
  });

  it("flips the rows of every slice (input row 0 is the display's top row)", () => {
    const layer = labelsToLayer(labels, grid);
    expect([...layer]).toEqual([0, 3, 0, 1, 0, 2, /* slice 1 */ 0, 0, 5, 4, 4, 0]);
    const big = Uint16Array.of(256, 0, 300, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    expect([...labelsToLayer(big, grid)].slice(0, 6)).toEqual([0, 0, 0, 2, 0, 46]);
    expect(() => labelsToLayer(new Uint16Array(5), grid)).toThrow(/5 labels for a 3×2×2 grid/);
  });

  it("rewrites only the given voxels of the view", () => {
    const layer = labelsToLayer(labels, grid);
    const changed = labels.slice();
    changed[2] = 300; // input (x 2, y 0, z 0) = display index 5
    changed[11] = 0; // input (x 2, y 1, z 1) = display index 8
    changed[0] = 7; // not in the index list: the view keeps showing 1
    showLabelsAt(layer, changed, Uint32Array.of(2, 11), grid);
    expect([...layer]).toEqual([0, 3, 0, 1, 0, 46, /* slice 1 */ 0, 0, 0, 4, 4, 0]);
  });
});

describe("brush strokes on the label map", () => {
  it("gives painted voxels the active box's label above 255, erased ones background, and undoes and redoes", () => {
    const map = labels.slice();
    const layer = labelsToLayer(map, grid);
    // niivue's brush: PEN_BYTE on display indices 0 and 1 (input 3 and 4, the bottom row of slice 0), 0 on
    // display 9 (input 6, box 4) — as niivue writes them.
    layer[0] = PEN_BYTE;
    layer[1] = PEN_BYTE;
    layer[9] = 0;
    const stroke = applyStroke(map, layer, grid, 300)!;
    expect([...stroke.index]).toEqual([3, 4, 6]);
    expect([...stroke.before]).toEqual([0, 3, 4]);
    expect([...stroke.after]).toEqual([300, 300, 0]);
    expect([...map]).toEqual([1, 0, 2, 300, 300, 0, /* slice 1 */ 0, 4, 0, 0, 0, 5]);
    // The layer shows the map again: the brush's byte became box 300's.
    expect(layer).toEqual(labelsToLayer(map, grid));

    applyDiff(map, stroke, "undo");
    expect(map).toEqual(labels);
    applyDiff(map, stroke, "redo");
    expect(map[3]).toBe(300);
    expect(map[6]).toBe(0);
  });

  it("paints over a box that shares the active box's colour, and records nothing for a box painted over itself", () => {
    const map = Uint16Array.of(0, 1, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0); // 1 and 255 share byte 1
    const layer = labelsToLayer(map, grid);
    layer.fill(PEN_BYTE, 3, 6); // display row 1 of slice 0 = input row 0: voxels 0, 1, 2
    const stroke = applyStroke(map, layer, grid, 255)!;
    expect([...stroke.index]).toEqual([0, 1]);
    expect([...map.slice(0, 3)]).toEqual([255, 255, 255]);
    expect(layer).toEqual(labelsToLayer(map, grid));

    layer.fill(PEN_BYTE, 3, 6);
    expect(applyStroke(map, layer, grid, 255)).toBeNull();
    expect(layer).toEqual(labelsToLayer(map, grid));
    expect(() => applyStroke(map, layer, grid, MAX_LABEL + 1)).toThrow(/label 65536/);
  });
});

describe("label map diffs", () => {
  it("keeps edits as sparse diffs that undo and redo", () => {
    const before = Uint16Array.of(0, 1, 1, 0);
    const after = Uint16Array.of(2, 1, 0, 400);
    const diff = diffLabels(before, after)!;
    expect([...diff.index]).toEqual([0, 2, 3]);
    const map = after.slice();
    applyDiff(map, diff, "undo");
    expect(map).toEqual(before);
    applyDiff(map, diff, "redo");
    expect(map).toEqual(after);
    expect(diffLabels(before, before.slice())).toBeNull();
  });

  it("deletes box 260: its voxels become background and the boxes after it move down by one", () => {
    const map = Uint16Array.of(0, 1, 259, 260, 261, 300, 260, 65535);
    const deletion = withoutLabel(map, 260)!;
    expect([...deletion.index]).toEqual([3, 4, 5, 6, 7]);
    applyDiff(map, deletion, "redo");
    expect([...map]).toEqual([0, 1, 259, 0, 260, 299, 0, 65534]);
    applyDiff(map, deletion, "undo");
    expect([...map]).toEqual([0, 1, 259, 260, 261, 300, 260, 65535]);
    expect(withoutLabel(Uint16Array.of(0, 1, 2), 3)).toBeNull();
    const clear = withoutAnyLabel(map)!;
    applyDiff(map, clear, "redo");
    expect(map.every((v) => v === 0)).toBe(true);
    expect(withoutAnyLabel(map)).toBeNull();
  });

  it("counts voxels per label, above 255 too", () => {
    expect(labelVoxelCounts(Uint16Array.of(0, 1, 3, 3, 0))).toEqual([2, 1, 0, 2]);
    const counts = labelVoxelCounts(Uint16Array.of(0, 300, 300, 256, 1));
    expect(counts).toHaveLength(301);
    expect([counts[0], counts[1], counts[255], counts[256], counts[300]]).toEqual([1, 1, 0, 1, 2]);
    expect(labelVoxelCounts(new Uint16Array(4))).toEqual([4]);
  });
});
