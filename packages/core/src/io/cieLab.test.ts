import { describe, expect, it } from "vitest";
import { dicomCieLabFromRgb } from "./cieLab.js";

describe("dicomCieLabFromRgb", () => {
  it("white and black: L* 100 and 0, a* = b* = 0 (0x8080)", () => {
    expect(dicomCieLabFromRgb([255, 255, 255])).toEqual([0xffff, 0x8080, 0x8080]);
    expect(dicomCieLabFromRgb([0, 0, 0])).toEqual([0, 0x8080, 0x8080]);
  });

  it("sRGB red is L* 54.29, a* 80.80, b* 69.89 under D50 (Bradford)", () => {
    const [l, a, b] = dicomCieLabFromRgb([255, 0, 0]);
    expect((l * 100) / 0xffff).toBeCloseTo(54.29, 1);
    expect((a * 255) / 0xffff - 128).toBeCloseTo(80.8, 1);
    expect((b * 255) / 0xffff - 128).toBeCloseTo(69.89, 1);
  });
});
