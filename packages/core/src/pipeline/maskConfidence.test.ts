import { describe, expect, it } from "vitest";
import { MaskConfidenceTally, UNSURE_LOGIT } from "./maskConfidence.js";
import { PaintOrder } from "./paintOrder.js";
import { LogitUpsampler } from "./postprocess.js";
import { modelFrame } from "./preprocess.js";

describe("MaskConfidenceTally", () => {
  // A 4×8 image in an 8×8 frame: rows 4..7 are padding and must not count.
  const frame = modelFrame(4, 8, 8);
  const plane = (fill: (x: number, y: number) => number) =>
    Float32Array.from({ length: 64 }, (_, i) => fill(i % 8, Math.floor(i / 8)));

  it("counts sure (logit ≥ ln 3) and doubtful (|logit| < ln 3) pixels inside the resized extent only", () => {
    const tally = new MaskConfidenceTally();
    // 2 sure, 3 doubtful (one just below ln 3, one at 0, one just above −ln 3), the rest surely outside;
    // the padding rows hold sure values that must be ignored.
    const values: Record<string, number> = {
      "0,0": 5,
      "1,0": UNSURE_LOGIT,
      "2,0": 1.09,
      "3,0": 0,
      "4,0": -1.09,
    };
    const logits = plane((x, y) => (y >= 4 ? 9 : (values[`${x},${y}`] ?? -4)));
    tally.add(1, logits, 0, frame, 0.8);
    expect(tally.confidenceOf(1)).toBeCloseTo(2 / 5, 12);
    expect(tally.predictedIouOf(1)).toBeCloseTo(0.8, 6);
    expect(tally.confidenceOf(2)).toBeUndefined();
  });

  it("sums a label's counts over its decoder calls (a 3D walk) and reads box k of a batch", () => {
    const tally = new MaskConfidenceTally();
    const batch = new Float32Array(128);
    batch.set(
      plane((x, y) => (x < 2 && y < 2 ? 3 : -3)),
      0,
    ); // box 0: 4 sure, 0 doubtful
    batch.set(
      plane((x, y) => (y === 0 ? 0.5 : -3)),
      64,
    ); // box 1: 0 sure, 8 doubtful
    tally.add(7, batch, 1, frame, 0.5);
    expect(tally.confidenceOf(7)).toBe(0); // nothing surely inside
    tally.add(7, batch, 0, frame, 0.9);
    expect(tally.confidenceOf(7)).toBeCloseTo(4 / 12, 12);
    expect(tally.predictedIouOf(7)).toBeCloseTo(0.7, 6);
  });
});

describe("MaskConfidenceTally: only the visible part of a mask counts", () => {
  // An 8×8 image in an 8×8 frame (identity upsampling): frame counts and label-plane pixels agree one to one.
  const frame = modelFrame(8, 8, 8);
  const logitsOf = (fill: (x: number, y: number) => number) =>
    Float32Array.from({ length: 64 }, (_, i) => fill(i % 8, Math.floor(i / 8)));
  const inside = (x: number, y: number, lo: number, hi: number) => x >= lo && x <= hi && y >= lo && y <= hi;
  // An outer object, sure on 6×6 = 36 pixels; an inner one on top: sure on 2×2, doubtful on the ring around (12).
  const outer = logitsOf((x, y) => (inside(x, y, 1, 6) ? 3 : -3));
  const inner = logitsOf((x, y) => (inside(x, y, 3, 4) ? 3 : inside(x, y, 2, 5) ? 0.5 : -3));

  const run = (order: [number, Float32Array][], plane = (_label: number) => 0, paintOrder?: PaintOrder) => {
    const tally = new MaskConfidenceTally(paintOrder);
    const upsampler = new LogitUpsampler(frame, undefined, paintOrder);
    const labels = new Uint16Array(64);
    for (const [label, logits] of order) {
      upsampler.paint(logits, 0, labels, label, tally.classesOf(label, plane(label)));
      tally.add(label, logits, 0, frame, 0.5);
    }
    return tally;
  };

  it("an outer object under an inner one: hidden pixels leave, pixels the inner one may cover become doubtful", () => {
    const tally = run([
      [1, outer],
      [2, inner],
    ]);
    // Outer: 36 sure in the frame; 4 hidden under the inner one's sure core, 12 under its doubtful ring:
    // sure 36 − 16 = 20, doubtful 0 + 12 → 20 / 32. The inner one is on top: its own 4 / 16.
    expect(tally.confidenceOf(1)).toBeCloseTo(20 / 32, 12);
    expect(tally.confidenceOf(2)).toBeCloseTo(4 / 16, 12);
  });

  it("the same whatever order the boxes were painted in", () => {
    const tally = run([
      [2, inner],
      [1, outer],
    ]);
    expect(tally.confidenceOf(1)).toBeCloseTo(20 / 32, 12);
    expect(tally.confidenceOf(2)).toBeCloseTo(4 / 16, 12);
  });

  it("a lower label under a higher one is what is hidden, not the other way round", () => {
    const tally = run([
      [2, outer],
      [1, inner],
    ]);
    expect(tally.confidenceOf(2)).toBe(1); // on top, crisp
    expect(tally.confidenceOf(1)).toBe(0); // wholly under the sure outer object: nothing visible
  });

  it("masks on different planes (slices of a 3D walk) do not hide each other", () => {
    const tally = run(
      [
        [1, outer],
        [2, inner],
      ],
      (label) => label,
    );
    expect(tally.confidenceOf(1)).toBe(1);
    expect(tally.confidenceOf(2)).toBeCloseTo(4 / 16, 12);
  });

  it("follows the case's paint order: an inner box given first is on top, its container is what is hidden", () => {
    const innerBox = [2, 2, 5, 5];
    const wholeBox = [0, 0, 7, 7];
    const tally = run(
      [
        [1, inner],
        [2, outer],
      ],
      undefined,
      PaintOrder.of([innerBox, wholeBox], "inner"),
    );
    // As the first test with the labels swapped: the inner object (label 1) is on top.
    expect(tally.confidenceOf(2)).toBeCloseTo(20 / 32, 12);
    expect(tally.confidenceOf(1)).toBeCloseTo(4 / 16, 12);
  });
});
