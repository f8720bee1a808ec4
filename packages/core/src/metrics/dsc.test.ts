import { describe, expect, it } from "vitest";
import { dice, diceFromCounts } from "./dsc.js";

describe("dice", () => {
  it("is 1 for identical masks and 0 for disjoint ones", () => {
    const a = Uint8Array.from([0, 1, 1, 0, 1]);
    expect(dice(a, a)).toBe(1);
    expect(dice(a, Uint8Array.from([1, 0, 0, 1, 0]))).toBe(0);
  });

  it("is 2|A∩B| / (|A| + |B|) with any non-zero value inside", () => {
    // |A| = 3, |B| = 2, |A∩B| = 1 → 2/5
    expect(dice(Uint8Array.from([1, 1, 1, 0]), Uint16Array.from([0, 0, 7, 7]))).toBeCloseTo(0.4, 15);
  });

  it("gives the chosen value when both masks are empty", () => {
    const empty = new Uint8Array(4);
    expect(dice(empty, empty)).toBe(1);
    expect(dice(empty, empty, NaN)).toBeNaN();
    expect(diceFromCounts(0, 5, 0)).toBe(0);
  });

  it("rejects masks of different sizes", () => {
    expect(() => dice(new Uint8Array(3), new Uint8Array(4))).toThrow(/differ in size/);
  });
});
