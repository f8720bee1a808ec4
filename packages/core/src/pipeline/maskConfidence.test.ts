import { describe, expect, it } from "vitest";
import { MaskConfidenceTally, UNSURE_LOGIT } from "./maskConfidence.js";
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
