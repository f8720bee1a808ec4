import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import { planObjects } from "./datasetJson.js";
import { extractObjects, type LabelData } from "./objects.js";

/** A (H, W) label map from rectangles [x0, y0, x1, y1, value], painted in order. */
function labelMap2d(
  height: number,
  width: number,
  rects: number[][],
  make: (n: number) => LabelData = (n) => new Uint8Array(n),
): LabelData {
  const labels = make(height * width);
  for (const [x0, y0, x1, y1, value] of rects as [number, number, number, number, number][]) {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) labels[y * width + x] = value;
  }
  return labels;
}

const DRISHTI = planObjects({ labels: { background: 0, optic_disc: [1, 2], optic_cup: 2 } });
const HIPPOCAMPUS = planObjects({
  labels: { background: 0, anterior: 1, posterior: 2, hippocampus: [1, 2] },
});

describe("extractObjects (2D)", () => {
  it("keeps a region that is not covered (drishti disc = rim ∪ cup), then the cup", () => {
    const labels = labelMap2d(20, 30, [
      [5, 4, 20, 15, 1],
      [9, 7, 14, 11, 2],
    ]);
    const { objects, gts } = extractObjects(labels, [20, 30], DRISHTI);
    expect(objects.map((o) => [o.name, o.box])).toEqual([
      ["optic_disc", [5, 4, 20, 15]],
      ["optic_cup", [9, 7, 14, 11]],
    ]);
    // Later objects overwrite earlier ones: the rim stays 1, the cup becomes 2.
    expect([gts[4 * 30 + 5], gts[7 * 30 + 9], gts[11 * 30 + 14], gts[0]]).toEqual([1, 2, 2, 0]);
  });

  it("drops a region covered by the objects after it, and empty objects", () => {
    const cupOnly = extractObjects(labelMap2d(10, 10, [[2, 3, 4, 6, 2]]), [10, 10], DRISHTI);
    expect(cupOnly.objects.map((o) => o.name)).toEqual(["optic_cup"]);
    expect(cupOnly.gts[3 * 10 + 2]).toBe(1);
    const rimOnly = extractObjects(labelMap2d(10, 10, [[2, 3, 4, 6, 1]]), [10, 10], DRISHTI);
    expect(rimOnly.objects.map((o) => [o.name, o.box])).toEqual([["optic_disc", [2, 3, 4, 6]]]);
    const hippo = extractObjects(
      labelMap2d(10, 10, [
        [0, 0, 1, 1, 1],
        [5, 5, 9, 9, 2],
      ]),
      [10, 10],
      HIPPOCAMPUS,
    );
    expect(hippo.objects.map((o) => o.name)).toEqual(["anterior", "posterior"]);
  });

  it("keeps a region holding an id no later object has", () => {
    const plan = planObjects({ labels: { background: 0, core: 1, lesion: [1, 2] } });
    const kept = extractObjects(
      labelMap2d(8, 8, [
        [0, 0, 3, 3, 2],
        [1, 1, 2, 2, 1],
      ]),
      [8, 8],
      plan,
    );
    expect(kept.objects.map((o) => [o.name, o.box])).toEqual([
      ["lesion", [0, 0, 3, 3]],
      ["core", [1, 1, 2, 2]],
    ]);
    const dropped = extractObjects(labelMap2d(8, 8, [[1, 1, 2, 2, 1]]), [8, 8], plan);
    expect(dropped.objects.map((o) => o.name)).toEqual(["core"]);
  });

  it("gives one object per instance id, ids increasing, for 16-bit instance maps", () => {
    const labels = labelMap2d(
      40,
      50,
      [
        [30, 25, 45, 34, 300],
        [1, 1, 6, 4, 3],
        [12, 10, 25, 22, 40],
      ],
      (n) => new Uint16Array(n),
    );
    const { objects, gts } = extractObjects(labels, [40, 50], { kind: "instance", instanceClass: "nucleus" });
    expect(objects.map((o) => [o.name, o.box])).toEqual([
      ["nucleus_3", [1, 1, 6, 4]],
      ["nucleus_40", [12, 10, 25, 22]],
      ["nucleus_300", [30, 25, 45, 34]],
    ]);
    expect([gts[1 * 50 + 1], gts[10 * 50 + 12], gts[34 * 50 + 45]]).toEqual([1, 2, 3]);
  });

  it("accepts float label maps holding integers", () => {
    const labels = labelMap2d(5, 5, [[1, 2, 3, 4, 2]], (n) => new Float32Array(n));
    expect(extractObjects(labels, [5, 5], HIPPOCAMPUS).objects.map((o) => o.name)).toEqual(["posterior"]);
  });

  it("reports label maps it cannot read as one-line errors naming the file", () => {
    const bad: [LabelData, RegExp][] = [
      [Float32Array.from([0, 1.5, 0, 0]), /label map value 1.5 is not a non-negative integer/],
      [Int16Array.from([0, -1, 0, 0]), /label map value -1 is not a non-negative integer/],
      [Uint8Array.from([0, 7, 0, 0]), /label id 7 occurs in the label map but not in dataset.json labels/],
      [Uint8Array.from([0, 1, 0]), /label map has 3 values, expected 2x2/],
    ];
    for (const [labels, problem] of bad) {
      expect(inputErrorLine(() => extractObjects(labels, [2, 2], HIPPOCAMPUS, "labels/x.png"))).toMatch(
        new RegExp(`^labels/x\\.png: ${problem.source}`),
      );
    }
  });
});

describe("extractObjects (3D)", () => {
  it("boxes are [x0, y0, z0, x1, y1, z1] with x the last array axis", () => {
    const [depth, height, width] = [4, 5, 6];
    const labels = new Uint8Array(depth * height * width);
    const set = (z: number, y: number, x: number, value: number) =>
      (labels[(z * height + y) * width + x] = value);
    set(1, 2, 3, 1);
    set(2, 4, 5, 1);
    set(3, 0, 0, 2);
    const { objects, gts } = extractObjects(labels, [depth, height, width], HIPPOCAMPUS);
    expect(objects.map((o) => [o.name, o.box])).toEqual([
      ["anterior", [3, 2, 1, 5, 4, 2]],
      ["posterior", [0, 0, 3, 0, 0, 3]],
    ]);
    expect(gts[(3 * height + 0) * width + 0]).toBe(2);
    expect(gts.length).toBe(labels.length);
  });
});
