import { describe, expect, it } from "vitest";
import { formatObjectSizeMarkdown, summarizeByObjectSize, type ObjectScore } from "./objectSize.js";

const obj = (
  modality: string,
  dims: number,
  gtVoxels: number,
  predVoxels: number,
  dsc: number,
): ObjectScore => ({
  modality,
  dims,
  gtVoxels,
  predVoxels,
  dsc,
});

describe("summarizeByObjectSize", () => {
  it("bins objects by the side of the square / cube of their area / volume, per modality", () => {
    const rows = summarizeByObjectSize([
      obj("Microscopy", 2, 25, 12, 0.6), // side 5
      obj("Microscopy", 2, 49, 30, 0.7), // side 7
      obj("Microscopy", 2, 36, 36, NaN), // side 6, DSC left out of the mean but counted
      obj("Microscopy", 2, 64, 64, 1), // side 8: the next bin
      obj("MR", 3, 27_000, 33_000, 0.8), // side 30
      obj("CT", 2, 0, 10, NaN), // no ground truth: left out
      obj("CT", 2, 100 * 100, 90 * 100, 0.9), // side 100
    ]);
    expect(rows).toEqual([
      { modality: "CT", bin: "≥ 64", objects: 1, meanDsc: 0.9, medianVolumeRatio: 0.9 },
      { modality: "MR", bin: "16–32", objects: 1, meanDsc: 0.8, medianVolumeRatio: 33 / 27 },
      {
        modality: "Microscopy",
        bin: "< 8",
        objects: 3,
        meanDsc: (0.6 + 0.7) / 2,
        medianVolumeRatio: 30 / 49,
      },
      { modality: "Microscopy", bin: "8–16", objects: 1, meanDsc: 1, medianVolumeRatio: 1 },
    ]);
  });

  it("takes the median of an even count as the mean of the middle two and writes a Markdown table", () => {
    const rows = summarizeByObjectSize([obj("US", 2, 400, 200, NaN), obj("US", 2, 400, 600, NaN)]);
    expect(rows).toEqual([{ modality: "US", bin: "16–32", objects: 2, meanDsc: null, medianVolumeRatio: 1 }]);
    expect(formatObjectSizeMarkdown(rows)).toContain("| US | 16–32 | 2 | – | 1.000 |");
  });
});
