import { describe, expect, it } from "vitest";
import { rgbaToRgb } from "./channels.js";

describe("rgbaToRgb", () => {
  it("drops every fourth value and keeps the array type", () => {
    const rgba = Uint16Array.from([1, 2, 3, 900, 4, 5, 6, 901]);
    const rgb = rgbaToRgb(rgba);
    expect(rgb).toBeInstanceOf(Uint16Array);
    expect(Array.from(rgb)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(rgbaToRgb(Float32Array.from([0.5, 1, 1.5, 0])))).toEqual([0.5, 1, 1.5]);
  });
});
