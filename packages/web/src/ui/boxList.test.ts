import { describe, expect, it } from "vitest";
import { leastConfident } from "./boxList.js";

describe("leastConfident", () => {
  it("marks the least confident tenth of the scored boxes, at least one of two or more", () => {
    expect(leastConfident([0.9, 0.5, 0.7])).toEqual(new Set([1]));
    const twenty = Array.from({ length: 20 }, (_, i) => 1 - i / 40);
    expect(leastConfident(twenty)).toEqual(new Set([19, 18]));
    expect(leastConfident([0.4, null, 0.4, 0.9])).toEqual(new Set([0])); // ties: the first box
    expect(leastConfident([0.3])).toEqual(new Set());
    expect(leastConfident([null, null])).toEqual(new Set());
  });
});
