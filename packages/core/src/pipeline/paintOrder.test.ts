import { describe, expect, it } from "vitest";
import { PaintOrder } from "./paintOrder.js";

/** Labels from the bottom of the stack to the top. */
const bottomUp = (order: PaintOrder) => order.topDown(order.rank.keys()).reverse().slice(1);
/** Whether `label` goes over `current` where their masks overlap. */
const covers = (order: PaintOrder, label: number, current: number) =>
  order.rank[label]! > order.rank[current]!;
/** The inner order of these boxes, bottom to top. */
const innerStack = (boxes: number[][]) => bottomUp(PaintOrder.of(boxes, "inner"));

describe("PaintOrder", () => {
  it("later: the label order itself", () => {
    const order = PaintOrder.of(
      [
        [0, 0, 9, 9],
        [2, 2, 4, 4],
      ],
      "later",
    );
    expect([...order.rank]).toEqual([0, 1, 2]);
    expect(covers(order, 2, 1)).toBe(true);
    expect(covers(order, 1, 2)).toBe(false);
    expect(covers(order, 1, 0)).toBe(true);
  });

  it("inner: a box inside an earlier box goes above it (BraTS: necrosis inside the enhancing ring's box)", () => {
    // 1 necrosis, 2 edema (holds all), 3 non-enhancing, 4 enhancing (holds 1 and 3): the boxes of brats_0001.
    const boxes = [
      [60, 85, 33, 102, 128, 83],
      [57, 82, 29, 111, 171, 102],
      [61, 83, 32, 102, 131, 88],
      [60, 76, 31, 102, 138, 88],
    ];
    const order = PaintOrder.of(boxes, "inner");
    // Edema at the bottom, the ring above it, then its two inner boxes in label order (1 and 3 do not nest).
    expect(bottomUp(order)).toEqual([2, 4, 1, 3]);
    expect(covers(order, 1, 4)).toBe(true);
    expect(covers(order, 4, 1)).toBe(false);
  });

  it("inner: exactly the label order when no box lies inside an earlier one (disc then cup, neighbours)", () => {
    const disc = [10, 10, 50, 50];
    const cup = [20, 20, 40, 40];
    expect([...PaintOrder.of([disc, cup], "inner").rank]).toEqual([0, 1, 2]);
    // Overlapping neighbours, none inside another: later on top.
    const neighbours = [
      [0, 0, 10, 10],
      [5, 5, 15, 15],
      [8, 0, 20, 6],
    ];
    expect([...PaintOrder.of(neighbours, "inner").rank]).toEqual([0, 1, 2, 3]);
  });

  it("inner: identical boxes do not hold each other (later on top); touching a bound still holds", () => {
    const same = [1, 1, 5, 5];
    expect(innerStack([same, [...same]])).toEqual([1, 2]);
    expect(innerStack([same, [0, 1, 5, 5]])).toEqual([2, 1]);
  });

  it("inner: a box overlapping the outer one but not inside it keeps its place by label", () => {
    // 3 lies inside 1 and goes above it; 2 overlaps 1 without being inside: 2 above 1 as before, and 3 (inner,
    // later) above both.
    expect(
      innerStack([
        [0, 0, 20, 20],
        [15, 15, 30, 30],
        [2, 2, 6, 6],
      ]),
    ).toEqual([1, 2, 3]);
    // An inner box given first: it still goes above its container, and the unrelated box keeps label order.
    expect(
      innerStack([
        [2, 2, 6, 6],
        [40, 40, 50, 50],
        [0, 0, 20, 20],
      ]),
    ).toEqual([2, 3, 1]);
  });

  it("inner: every box above all boxes holding it, for random nested sets of 300 boxes", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const boxes = Array.from({ length: 300 }, () => {
      const x0 = Math.floor(random() * 90);
      const y0 = Math.floor(random() * 90);
      return [x0, y0, x0 + Math.floor(random() * (100 - x0)), y0 + Math.floor(random() * (100 - y0))];
    });
    const order = PaintOrder.of(boxes, "inner");
    expect(new Set(order.rank).size).toBe(301); // a ranking: every label its own height
    for (let i = 0; i < boxes.length; i++)
      for (let j = 0; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        const inside = a[0]! >= b[0]! && a[1]! >= b[1]! && a[2]! <= b[2]! && a[3]! <= b[3]!;
        if (i !== j && inside && a.join() !== b.join()) expect(covers(order, i + 1, j + 1)).toBe(true);
      }
  });
});
