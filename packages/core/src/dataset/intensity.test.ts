import { describe, expect, it } from "vitest";
import { percentiles, roundHalfEven, scaleRangeToUint8, scaleToUint8 } from "./intensity.js";

describe("percentiles", () => {
  it("matches np.percentile(v, [0.5, 99.5]) (linear) for float data", () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) / 7);
    const [low, high] = percentiles(values, [0.5, 99.5]);
    expect(low).toBeCloseTo(0.7135714285714286, 12);
    expect(high).toBeCloseTo(142.00071428571428, 12);
  });

  it("gives the same order statistics from a histogram (uint16) as numpy", () => {
    const values = Uint16Array.from({ length: 1000 }, (_, i) => (((i * 7919) % 1000) * 53) % 65536);
    const [low, high] = percentiles(values, [0.5, 99.5]);
    expect(low).toBeCloseTo(264.735, 9);
    expect(high).toBeCloseTo(52682.265, 9);
    expect(percentiles(Float64Array.from(values), [0.5, 99.5])).toEqual([low, high]);
  });

  it("counts signed small integers correctly", () => {
    expect(percentiles(Int8Array.from([-100, -5, 0, 7, 100]), [0, 50, 100])).toEqual([-100, 0, 100]);
    expect(percentiles(Int16Array.from([-30000, 2, 30000]), [0, 50, 100])).toEqual([-30000, 2, 30000]);
  });
});

describe("scaleToUint8", () => {
  it("clips to the 0.5/99.5 percentiles and scales like the numpy reference (NaN → 0)", () => {
    const values = Float64Array.from({ length: 200 }, (_, i) => i);
    values[0] = -1000;
    values[199] = 5000;
    values[57] = NaN;
    const out = scaleToUint8(values);
    // np: lo, hi = -9.01, 246.02; np.round((np.clip(v, lo, hi) - lo) / (hi - lo) * 255)
    const picks = [0, 1, 2, 50, 57, 100, 150, 198, 199].map((i) => out[i]);
    expect(picks).toEqual([0, 10, 11, 59, 0, 109, 159, 207, 255]);
  });

  it("maps a constant volume to zeros", () => {
    expect(Array.from(scaleToUint8(new Float32Array(10).fill(42)))).toEqual(new Array(10).fill(0));
  });

  it("spans the full 0..255 range for a uint16 ramp", () => {
    const out = scaleToUint8(Uint16Array.from({ length: 4096 }, (_, i) => i * 16));
    expect(out[0]).toBe(0);
    expect(out[4095]).toBe(255);
    expect(out[2048]).toBeGreaterThan(120);
    expect(out[2048]).toBeLessThan(135);
  });
});

describe("roundHalfEven", () => {
  it("rounds ties to even like np.round", () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, 254.5, 255].map(roundHalfEven)).toEqual([
      0, 2, 2, 4, 2, 3, 254, 255,
    ]);
  });
});

describe("scaleRangeToUint8 on large 8- and 16-bit arrays (looked up in a table)", () => {
  it("gives every value what the per-value arithmetic gives, a CT window's width included", () => {
    const perValue = (v: number, low: number, high: number, width: number) =>
      roundHalfEven((((v < low ? low : v > high ? high : v) - low) / width) * 255);
    const cases: [Int16Array | Uint16Array | Uint8Array | Int8Array, number, number, number][] = [
      [Int16Array.from({ length: 300_000 }, (_, i) => (i % 65536) - 32768), -160, 240, 400],
      [Int16Array.from({ length: 300_000 }, (_, i) => ((i * 7919) % 4000) - 1500), -1350, 150, 1500.0000001],
      [Uint16Array.from({ length: 300_000 }, (_, i) => (i * 31) % 65536), 17.25, 61234.5, 61234.5 - 17.25],
      [Uint8Array.from({ length: 5000 }, (_, i) => i % 256), 3, 250, 247],
      [Int8Array.from({ length: 5000 }, (_, i) => (i % 256) - 128), -100, 100, 200],
    ];
    for (const [values, low, high, width] of cases) {
      const got = scaleRangeToUint8(values, low, high, width);
      const want = Uint8Array.from(values, (v) => perValue(v, low, high, width));
      expect(got).toEqual(want);
    }
  });
});
