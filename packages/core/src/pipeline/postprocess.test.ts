import { describe, expect, it } from "vitest";
import { PaintOrder } from "./paintOrder.js";
import { PixelIndexList } from "./pixelIndexList.js";
import { boxClip, LogitUpsampler, UNSURE_LOGIT } from "./postprocess.js";
import { modelFrame } from "./preprocess.js";

const classes = () => ({ sure: new PixelIndexList(), unsure: new PixelIndexList() });

describe("LogitUpsampler.paint", () => {
  // An 8×8 image in an 8×8 frame: upsampling is the identity, so every logit is one output pixel.
  const frame = modelFrame(8, 8, 8);
  const logitsOf = (fill: (x: number, y: number) => number) =>
    Float32Array.from({ length: 64 }, (_, i) => fill(i % 8, Math.floor(i / 8)));

  it("paints logit > 0 with max(label) and sorts sure / doubtful pixels, the doubtful ring outside included", () => {
    // Sure 2×2 at (3..4, 3..4); a doubtful ring around it: +0.5 at x = 2, −0.5 at x = 5 and on rows 2 and 5.
    const logits = logitsOf((x, y) => {
      if (x >= 3 && x <= 4 && y >= 3 && y <= 4) return 4;
      if (x >= 2 && x <= 5 && y >= 2 && y <= 5) return x === 2 ? 0.5 : -0.5;
      return -4;
    });
    const labels = new Uint16Array(64);
    labels[3 * 8 + 3] = 9; // a higher label already there keeps its pixel
    const c = classes();
    const box = new LogitUpsampler(frame).paint(logits, 0, labels, 2, c);
    expect(box).toEqual([2, 2, 4, 5]);
    expect(c.sure.indices().sort((a, b) => a - b)).toEqual([27, 28, 35, 36]);
    expect(c.unsure.length).toBe(12);
    expect(labels[27]).toBe(9);
    expect(labels[28]).toBe(2);
    expect(labels[5 * 8 + 5]).toBe(0); // doubtful but negative: not painted
  });

  it("an empty mask paints nothing and returns null, yet its doubtful pixels are still sorted", () => {
    const logits = logitsOf((x, y) => (x === 6 && y === 1 ? -0.5 : -UNSURE_LOGIT - 1));
    const labels = new Uint16Array(64);
    const c = classes();
    expect(new LogitUpsampler(frame).paint(logits, 0, labels, 1, c)).toBeNull();
    expect(labels.every((v) => v === 0)).toBe(true);
    expect(c.unsure.indices()).toEqual([1 * 8 + 6]);
    expect(c.sure.length).toBe(0);
  });

  it("paints into a tile's place in a wider plane, classes indexed in that plane", () => {
    const logits = logitsOf((x, y) => (x === 0 && y === 0 ? 5 : -5));
    const labels = new Uint16Array(20 * 20);
    const c = classes();
    // The tile's top-left corner is at (10, 4) in a 20-wide plane.
    const box = new LogitUpsampler(frame, { x0: 10, y0: 4, stride: 20 }).paint(logits, 0, labels, 3, c);
    expect(box).toEqual([10, 4, 10, 4]);
    expect(labels[4 * 20 + 10]).toBe(3);
    expect(c.sure.indices()).toEqual([4 * 20 + 10]);
  });

  it("with a paint order, the label ranked higher goes on top whatever the label values", () => {
    const full = logitsOf(() => 3);
    const core = logitsOf((x, y) => (x >= 2 && x <= 5 && y >= 2 && y <= 5 ? 3 : -3));
    // Box 1 lies inside box 2: the inner order puts label 1 above label 2.
    const order = PaintOrder.of(
      [
        [2, 2, 5, 5],
        [0, 0, 7, 7],
      ],
      "inner",
    );
    for (const sequence of [
      [1, 2],
      [2, 1],
    ]) {
      const labels = new Uint16Array(64);
      const upsampler = new LogitUpsampler(frame, undefined, order);
      for (const label of sequence) upsampler.paint(label === 1 ? core : full, 0, labels, label);
      expect(labels[3 * 8 + 3]).toBe(1); // the inner object stays visible, painted first or last
      expect(labels[0]).toBe(2);
      expect(labels.filter((v) => v === 1).length).toBe(16);
    }
  });

  it("with a clip rectangle, paints and sorts only inside it (in the plane's coordinates)", () => {
    const everywhere = logitsOf((x) => (x === 7 ? 0.5 : 4)); // sure everywhere but a doubtful column x = 7
    const labels = new Uint16Array(20 * 20);
    const c = classes();
    // The tile sits at (10, 4) in a 20-wide plane; the clip covers plane x 12..17, y 5..6.
    const upsampler = new LogitUpsampler(frame, { x0: 10, y0: 4, stride: 20 });
    const box = upsampler.paint(everywhere, 0, labels, 1, c, undefined, [12, 5, 17, 6]);
    expect(box).toEqual([12, 5, 17, 6]);
    const painted = [...labels.keys()].filter((i) => labels[i] === 1);
    expect(painted.length).toBe(12);
    expect(painted.every((i) => i % 20 >= 12 && i % 20 <= 17 && Math.floor(i / 20) >= 5)).toBe(true);
    expect(c.sure.length + c.unsure.length).toBe(12);
    expect(c.unsure.indices().sort((a, b) => a - b)).toEqual([5 * 20 + 17, 6 * 20 + 17]);
    // A clip beside the mask leaves it empty.
    expect(
      upsampler.paint(
        logitsOf(() => -4),
        0,
        labels,
        2,
        undefined,
        undefined,
        [0, 0, 3, 3],
      ),
    ).toBeNull();
  });
});

describe("boxClip", () => {
  it("covers every pixel a box touches, max corner inclusive, within the plane", () => {
    expect(boxClip([2, 3, 5, 6], 8, 8)).toEqual([2, 3, 5, 6]);
    expect(boxClip([1.2, 0.5, 6.4, 9.7], 8, 10)).toEqual([1, 0, 7, 9]);
    expect(boxClip([-3, -1, 40, 7], 8, 8)).toEqual([0, 0, 7, 7]);
  });
});
