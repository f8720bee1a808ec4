import { describe, expect, it } from "vitest";
import { evaluateCase } from "./evaluateCase.js";
import { normalizedSurfaceDice } from "./nsd.js";

/** Sets `value` inside the inclusive box lo..hi of a C-order label map. */
function paint(map: Uint16Array, shape: number[], lo: number[], hi: number[], value: number): Uint16Array {
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((x, y) => x * y, 1));
  for (let i = 0; i < map.length; i++) {
    if (
      strides.every(
        (st, a) => Math.floor(i / st) % shape[a]! >= lo[a]! && Math.floor(i / st) % shape[a]! <= hi[a]!,
      )
    ) {
      map[i] = value;
    }
  }
  return map;
}

const only = (map: Uint16Array, label: number) => Uint8Array.from(map, (v) => (v === label ? 1 : 0));

describe("evaluateCase (CVPR24 challenge protocol)", () => {
  const shape2d = [30, 30];

  it("scores identical label maps 1/1 for every label", () => {
    const gt = paint(paint(new Uint16Array(900), shape2d, [2, 2], [8, 9], 1), shape2d, [15, 15], [25, 20], 2);
    const r = evaluateCase({ gt, pred: gt.slice(), shape: shape2d });
    expect(r.labels.map((m) => [m.label, m.dsc, m.nsd])).toEqual([
      [1, 1, 1],
      [2, 1, 1],
    ]);
    expect(r.dsc).toBe(1);
    expect(r.nsd).toBe(1);
    expect(r.nsdComputed).toBe(true);
  });

  it("scores a label missing from the prediction DSC 0 and NSD 0, and averages over labels 1..max(gt)", () => {
    const gt = paint(paint(new Uint16Array(900), shape2d, [2, 2], [8, 9], 1), shape2d, [15, 15], [25, 20], 2);
    const pred = paint(new Uint16Array(900), shape2d, [2, 2], [8, 9], 1);
    const r = evaluateCase({ gt, pred, shape: shape2d });
    expect(r.labels.map((m) => [m.label, m.dsc, m.nsd])).toEqual([
      [1, 1, 1],
      [2, 0, 0],
    ]);
    expect(r.dsc).toBe(0.5);
    expect(r.nsd).toBe(0.5);
  });

  it("computes no NSD when the case DSC is ≤ 0.2", () => {
    const gt = paint(new Uint16Array(900), shape2d, [0, 0], [9, 9], 1); // 100 px
    const pred = paint(new Uint16Array(900), shape2d, [0, 9], [9, 18], 1); // overlap 10 px → DSC 0.1
    const r = evaluateCase({ gt, pred, shape: shape2d });
    expect(r.labels[0]!.dsc).toBeCloseTo(0.1, 15);
    expect(r.nsdComputed).toBe(false);
    expect(r.nsd).toBe(0);
    expect(r.labels[0]!.nsd).toBe(0);
  });

  it("gives DSC NaN and NSD 0 for an empty gt, as the challenge's mean over no labels did", () => {
    const pred = paint(new Uint16Array(900), shape2d, [0, 0], [3, 3], 1);
    const r = evaluateCase({ gt: new Uint16Array(900), pred, shape: shape2d });
    expect(r.labels).toEqual([]);
    expect(r.dsc).toBeNaN();
    expect(r.nsd).toBe(0);
  });

  it("makes the case DSC NaN when a label below max(gt) is in neither mask", () => {
    const gt = paint(paint(new Uint16Array(900), shape2d, [2, 2], [8, 9], 1), shape2d, [15, 15], [25, 20], 3);
    const r = evaluateCase({ gt, pred: gt.slice(), shape: shape2d });
    expect(r.labels.map((m) => m.label)).toEqual([1, 2, 3]);
    expect(r.labels[1]!.dsc).toBeNaN();
    expect(r.dsc).toBeNaN();
    expect(r.nsdComputed).toBe(false);
  });

  it("scores 2D like the challenge, as (H, W, 1) slabs with spacing 1; 'contour' gives the 2D contour NSD", () => {
    const gt = paint(new Uint16Array(900), shape2d, [5, 5], [14, 14], 1);
    const pred = paint(new Uint16Array(900), shape2d, [5, 8], [14, 17], 1); // 3 px shift
    const slab = evaluateCase({ gt, pred, shape: shape2d });
    expect(slab.labels[0]!.nsd).toBeCloseTo(
      normalizedSurfaceDice(only(pred, 1), only(gt, 1), [30, 30, 1], [1, 1, 1], 2),
      14,
    );
    const contour = evaluateCase({ gt, pred, shape: shape2d, surface2d: "contour" });
    expect(contour.labels[0]!.nsd).toBeCloseTo(
      normalizedSurfaceDice(only(pred, 1), only(gt, 1), shape2d, [1, 1], 2),
      14,
    );
    expect(contour.labels[0]!.nsd).toBeLessThan(slab.labels[0]!.nsd);
  });

  it("uses the 3D spacing and tolerance per label, each on its own box", () => {
    const shape = [10, 12, 12];
    const gt = paint(
      paint(new Uint16Array(1440), shape, [1, 1, 1], [4, 5, 5], 1),
      shape,
      [5, 6, 6],
      [8, 10, 10],
      2,
    );
    const pred = paint(
      paint(new Uint16Array(1440), shape, [2, 1, 1], [5, 5, 5], 1),
      shape,
      [5, 6, 6],
      [8, 10, 10],
      2,
    );
    const spacing = [3, 1, 1];
    const r = evaluateCase({ gt, pred, shape, spacing });
    expect(r.labels[0]!.nsd).toBeCloseTo(
      normalizedSurfaceDice(only(pred, 1), only(gt, 1), shape, spacing, 2),
      14,
    );
    expect(r.labels[0]!.nsd).toBeLessThan(1);
    expect(r.labels[1]!.nsd).toBe(1);
    // A 3 mm tolerance covers the one-slice shift.
    expect(evaluateCase({ gt, pred, shape, spacing, tolerance: 3 }).nsd).toBe(1);
  });

  it("ignores predicted labels above max(gt) and rejects bad geometry", () => {
    const gt = paint(new Uint16Array(900), shape2d, [5, 5], [14, 14], 1);
    const pred = paint(gt.slice(), shape2d, [20, 20], [25, 25], 7);
    expect(evaluateCase({ gt, pred, shape: shape2d }).labels.map((m) => m.label)).toEqual([1]);
    expect(() => evaluateCase({ gt, pred: gt.subarray(1), shape: shape2d })).toThrow(/elements/);
    expect(() => evaluateCase({ gt, pred: gt, shape: [9, 10, 10] })).toThrow(/spacing/);
  });
});
