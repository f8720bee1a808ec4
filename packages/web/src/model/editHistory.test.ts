import { describe, expect, it } from "vitest";
import {
  boxesKey,
  boxFromCorners,
  boxFromPrompt,
  boxNames,
  boxPrompt,
  EditHistory,
  fileBoxesForEditor,
  UNDO_DEPTH,
  withName,
  withZRange,
  zRangeAround,
  type VoxelBox,
} from "./editHistory.js";
import { diffLabels, MAX_LABEL } from "./labelLayer.js";

const box = (x0: number, y0: number, x1: number, y1: number, z0 = 0, z1 = 0): VoxelBox => ({
  x0,
  y0,
  z0,
  x1,
  y1,
  z1,
});

describe("box list and undo", () => {
  it("adds, deletes and re-ranges boxes, and undoes each step in reverse order", () => {
    const history = new EditHistory();
    history.addBox(box(1, 1, 5, 5));
    history.addBox(box(2, 2, 6, 6, 3, 7));
    history.replaceBox(1, withZRange(history.boxes[1]!, 9, 4, 10), "slices of box 2");
    expect(history.boxes[1]).toEqual(box(2, 2, 6, 6, 4, 9));
    const labelsBefore = Uint16Array.of(1, 2, 2, 0);
    const deletion = diffLabels(labelsBefore, Uint16Array.of(0, 1, 1, 0))!;
    history.deleteBox(0, deletion);
    expect(history.boxes).toEqual([box(2, 2, 6, 6, 4, 9)]);

    expect(history.undo()).toMatchObject({ what: "delete box 1", labels: deletion });
    expect(history.boxes).toHaveLength(2);
    expect(history.undo()?.what).toBe("slices of box 2");
    expect(history.boxes[1]).toEqual(box(2, 2, 6, 6, 3, 7));
    history.undo();
    history.undo();
    expect(history.boxes).toEqual([]);
    expect(history.undo()).toBeUndefined();
  });

  it("records label changes without touching the boxes, and keeps at most UNDO_DEPTH steps", () => {
    const history = new EditHistory();
    history.addBox(box(0, 0, 1, 1));
    const paint = diffLabels(new Uint16Array(3), Uint16Array.of(0, 1, 1))!;
    history.recordLabels("paint", paint);
    expect(history.undo()).toMatchObject({ what: "paint", labels: paint });
    expect(history.boxes).toHaveLength(1);
    for (let i = 0; i < UNDO_DEPTH + 5; i++) history.recordLabels(`paint ${i}`, paint);
    expect(history.depth).toBe(UNDO_DEPTH);
  });

  it("holds more than 255 boxes, refuses one beyond what a uint16 label map holds, and unknown boxes", () => {
    const history = new EditHistory();
    history.reset(Array.from({ length: 255 }, (_, i) => box(i, 0, i, 0)));
    history.addBox(box(0, 0, 1, 1));
    expect(history.lastStep?.what).toBe("add box 256");
    history.reset(Array.from({ length: MAX_LABEL }, (_, i) => box(i, 0, i, 0)));
    expect(() => history.addBox(box(0, 0, 1, 1))).toThrow(/at most 65535 boxes/);
    expect(() => history.deleteBox(MAX_LABEL)).toThrow(/no box 65536/);
    expect(history.depth).toBe(0);
  });

  it("builds boxes from dragged corners and slice ranges, and back to --box numbers", () => {
    expect(boxFromCorners([9, 2], [3, 7], [5, 1])).toEqual(box(3, 2, 9, 7, 1, 5));
    expect(zRangeAround(1, 2, 10)).toEqual([0, 3]);
    expect(zRangeAround(8, 2, 10)).toEqual([6, 9]);
    expect(zRangeAround(4, 0, 10)).toEqual([4, 4]);
    expect(boxPrompt(box(3, 2, 9, 7), 2)).toEqual([3, 2, 9, 7]);
    expect(boxPrompt(box(3, 2, 9, 7, 1, 5), 3)).toEqual([3, 2, 1, 9, 7, 5]);
    expect(boxFromPrompt([3.4, 2, 9.6, 7])).toEqual(box(3, 2, 10, 7));
    expect(boxFromPrompt([3, 2, 1, 9, 7, 5])).toEqual(box(3, 2, 9, 7, 1, 5));
    expect(() => boxFromPrompt([1, 2, 3])).toThrow(/4 or 6 numbers/);
  });
});

describe("box names", () => {
  it("names a box (trimmed; empty removes the name), refusing a bad name or one another box has", () => {
    const boxes = [box(0, 0, 4, 4), { ...box(5, 5, 9, 9), name: "cup" }];
    expect(withName(boxes, 0, "  disc ")).toEqual({ ...box(0, 0, 4, 4), name: "disc" });
    expect(withName(boxes, 1, "")).toEqual(box(5, 5, 9, 9));
    expect(() => withName(boxes, 0, "cup")).toThrow('"cup" already names box 2');
    expect(() => withName(boxes, 1, "box 1")).toThrow('"box 1" already names box 1');
    expect(() => withName(boxes, 0, "a,b")).toThrow("a name is printable ASCII");
  });

  it("gives the exports a name per box once any is named, and keys the boxes by coordinates only", () => {
    expect(boxNames([box(0, 0, 1, 1), box(2, 2, 3, 3)])).toBeUndefined();
    expect(boxNames([box(0, 0, 1, 1), { ...box(2, 2, 3, 3), name: "cup" }])).toEqual(["box 1", "cup"]);
    // Renaming does not make the last run's confidence stale: same key.
    expect(boxesKey([{ ...box(0, 0, 1, 1), name: "disc" }])).toBe(boxesKey([box(0, 0, 1, 1)]));
    expect(boxesKey([box(0, 0, 1, 2)])).not.toBe(boxesKey([box(0, 0, 1, 1)]));
  });
});

describe("a challenge file's boxes in the editor", () => {
  it("loads up to MAX_LABEL boxes, hundreds of nuclei included, and says how many", () => {
    const { boxes, note } = fileBoxesForEditor([
      [3.4, 2, 9.6, 7],
      [0, 1, 2, 3, 4, 5],
    ]);
    expect(boxes).toEqual([box(3, 2, 10, 7), { x0: 0, y0: 1, z0: 2, x1: 3, y1: 4, z1: 5 }]);
    expect(note).toBe("2 box(es) from the file. ");
    expect(fileBoxesForEditor([]).note).toBe("");
    const nuclei = fileBoxesForEditor(Array.from({ length: 300 }, (_, i) => [i, 0, i + 1, 1]));
    expect(nuclei.boxes).toHaveLength(300);
    expect(nuclei.boxes[299]).toEqual(box(299, 0, 300, 1));
    expect(nuclei.note).toBe("300 box(es) from the file. ");
    expect(fileBoxesForEditor(Array.from({ length: MAX_LABEL }, () => [0, 0, 1, 1])).boxes).toHaveLength(
      MAX_LABEL,
    );
  });

  it("loads none of more than MAX_LABEL boxes and says why, instead of dropping them silently", () => {
    const { boxes, note } = fileBoxesForEditor(Array.from({ length: MAX_LABEL + 1 }, () => [0, 0, 1, 1]));
    expect(boxes).toEqual([]);
    expect(note).toContain("65536 boxes were not loaded");
    expect(note).toContain("at most 65535");
  });
});
