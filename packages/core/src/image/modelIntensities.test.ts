import { describe, expect, it } from "vitest";
import { scaleToUint8 } from "../dataset/intensity.js";
import {
  applyWindow,
  chooseIntensityMapping,
  looksLikeHounsfield,
  mapIntensities,
  parseCtWindow,
} from "./modelIntensities.js";

/** A CT-like slice: a third air (-1000), tissue around 40, some bone. */
function ctValues(): Int16Array {
  return Int16Array.from({ length: 3000 }, (_, i) =>
    i % 3 === 0 ? -1000 : i % 3 === 1 ? 40 + (i % 50) : 700,
  );
}

describe("CT windows", () => {
  it("presets and W/L", () => {
    expect(parseCtWindow("abdomen")).toEqual({ width: 400, level: 40, name: "abdomen" });
    expect(parseCtWindow("LUNG")).toEqual({ width: 1500, level: -600, name: "lung" });
    expect(parseCtWindow("brain")).toMatchObject({ width: 80, level: 40 });
    expect(parseCtWindow("bone")).toMatchObject({ width: 1800, level: 400 });
    expect(parseCtWindow("350/50")).toEqual({ width: 350, level: 50, name: "350/50" });
    expect(parseCtWindow("1500/-600")).toMatchObject({ width: 1500, level: -600 });
    for (const bad of ["", "soft", "0/40", "-400/40", "400", "400/", "a/b"]) {
      expect(() => parseCtWindow(bad)).toThrowError(/--window .* is neither a preset/);
    }
  });

  it("applyWindow: below → 0, above → 255, linear in between, half to even, NaN → 0", () => {
    const out = applyWindow(Float32Array.from([-1000, -160, 40, 240, 3000, NaN, -159]), {
      width: 400,
      level: 40,
    });
    // (40 + 160) / 400 * 255 = 127.5 → 128; (-159 + 160) / 400 * 255 = 0.6375 → 1
    expect(Array.from(out)).toEqual([0, 0, 128, 255, 255, 0, 1]);
  });
});

describe("chooseIntensityMapping", () => {
  const values = ctValues();
  it("--window wins over everything", () => {
    const m = chooseIntensityMapping({
      window: parseCtWindow("lung"),
      modality: { name: "MR", from: "--modality" },
      eightBit: true,
      values,
    });
    expect(m).toMatchObject({ kind: "window", name: "lung", reason: "--window" });
  });

  it("a CT modality gets the abdomen window by default", () => {
    const m = chooseIntensityMapping({
      modality: { name: "CT", from: "DICOM Modality" },
      eightBit: false,
      values,
    });
    expect(m).toMatchObject({ kind: "window", name: "abdomen", window: { width: 400, level: 40 } });
    expect(m.reason).toBe("DICOM Modality says CT");
  });

  it("8-bit CT data (a screenshot, not HU) are used as they are", () => {
    const m = chooseIntensityMapping({
      modality: { name: "CT", from: "DICOM Modality" },
      eightBit: true,
      values: new Uint8Array(10),
    });
    expect(m.kind).toBe("as-is");
  });

  it("a known non-CT modality is never windowed, even with HU-like values", () => {
    const m = chooseIntensityMapping({
      modality: { name: "MR", from: "file name" },
      eightBit: false,
      values,
    });
    expect(m.kind).toBe("percentile");
  });

  it("no modality: Hounsfield-like values are windowed, 8-bit data kept, others percentile-clipped", () => {
    expect(chooseIntensityMapping({ eightBit: false, values }).kind).toBe("window");
    expect(chooseIntensityMapping({ eightBit: true, values: new Uint8Array(10) }).kind).toBe("as-is");
    expect(chooseIntensityMapping({ eightBit: false, values: Uint16Array.from([0, 500, 900]) }).kind).toBe(
      "percentile",
    );
  });
});

describe("looksLikeHounsfield", () => {
  it("CT with air and scanner padding: yes", () => {
    expect(looksLikeHounsfield(ctValues())).toBe(true);
    const padded = ctValues();
    padded.fill(-3024, 0, 500);
    expect(looksLikeHounsfield(padded)).toBe(true);
    expect(looksLikeHounsfield(Float32Array.from(ctValues()))).toBe(true);
  });

  it("MR (non-negative), unsigned data, phase maps (down to -4096) and CT crops without air: no", () => {
    expect(looksLikeHounsfield(Int16Array.from({ length: 1000 }, (_, i) => i * 3))).toBe(false);
    expect(looksLikeHounsfield(Uint16Array.from({ length: 1000 }, (_, i) => i))).toBe(false);
    expect(looksLikeHounsfield(Int16Array.from({ length: 1000 }, (_, i) => -4096 + i * 8))).toBe(false);
    expect(looksLikeHounsfield(Int16Array.from({ length: 1000 }, (_, i) => -100 + (i % 300)))).toBe(false);
  });
});

describe("mapIntensities", () => {
  it("percentile mapping equals the importer's scaleToUint8, also for integer-valued floats", () => {
    const ints = Int16Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 3001) - 200);
    const expected = scaleToUint8(ints);
    expect(mapIntensities(ints, { kind: "percentile", reason: "" })).toEqual(expected);
    expect(mapIntensities(Float32Array.from(ints), { kind: "percentile", reason: "" })).toEqual(expected);
    const floats = Float32Array.from(ints, (v) => v + 0.25);
    expect(mapIntensities(floats, { kind: "percentile", reason: "" })).toEqual(scaleToUint8(floats));
  });

  it("as-is copies 8-bit values; invert flips them (MONOCHROME1)", () => {
    const v = Uint8Array.from([0, 10, 255]);
    const kept = mapIntensities(v, { kind: "as-is", reason: "" });
    expect(Array.from(kept)).toEqual([0, 10, 255]);
    expect(kept).not.toBe(v);
    expect(Array.from(mapIntensities(v, { kind: "as-is", reason: "" }, true))).toEqual([255, 245, 0]);
  });
});
