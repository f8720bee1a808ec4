import { describe, expect, it } from "vitest";
import { formatSummaryMarkdown, modalityFromCaseName, summarizeScores } from "./summary.js";

describe("modalityFromCaseName", () => {
  it("reads the modality from challenge names and falls back to unknown", () => {
    expect(modalityFromCaseName("3DBox_CT_AbdomenCT1K_0001.npz")).toBe("CT");
    expect(modalityFromCaseName("/x/y/2DBox_Dermoscopy_ISIC_0012.npz")).toBe("Dermoscopy");
    expect(modalityFromCaseName("2DBox_XRay_chest_1.npz")).toBe("XRay");
    expect(modalityFromCaseName("case_001.npz")).toBe("unknown");
  });
});

describe("summarizeScores", () => {
  const scores = [
    { case: "a", modality: "CT", dsc: 0.8, nsd: 0.9 },
    { case: "b", modality: "CT", dsc: 0.6, nsd: 0.5 },
    { case: "c", modality: "MR", dsc: 0.2, nsd: 0 },
    { case: "d", modality: "MR", dsc: NaN, nsd: 0 },
  ];

  it("averages per modality, over cases and over modalities, leaving NaN DSCs out", () => {
    const s = summarizeScores(scores);
    expect(s.modalities.map((m) => [m.modality, m.cases, m.meanDsc, m.meanNsd, m.nanDscCases])).toEqual([
      ["CT", 2, 0.7, 0.7, 0],
      ["MR", 2, 0.2, 0, 1],
    ]);
    expect(s.overall.cases).toBe(4);
    expect(s.overall.meanDsc).toBeCloseTo(1.6 / 3, 15);
    expect(s.overall.meanNsd).toBeCloseTo(1.4 / 4, 15);
    expect(s.meanOverModalities.meanDsc).toBeCloseTo(0.45, 15);
    expect(s.meanOverModalities.meanNsd).toBeCloseTo(0.35, 15);
  });

  it("formats a Markdown table with one row per modality and the two overall rows", () => {
    const md = formatSummaryMarkdown(summarizeScores(scores));
    expect(md).toContain("| CT | 2 | 0.7000 | 0.7000 |");
    expect(md).toContain("| **all cases** | 4 | 0.5333 | 0.3500 |");
    expect(md).toContain("| **mean over modalities** | 2 | 0.4500 | 0.3500 |");
    expect(md).toContain("1 case(s) with DSC NaN");
  });

  it("reports n/a for an empty set", () => {
    const s = summarizeScores([]);
    expect(s.overall).toEqual({ cases: 0, meanDsc: null, meanNsd: null, nanDscCases: 0 });
    expect(formatSummaryMarkdown(s)).toContain("| **all cases** | 0 | n/a | n/a |");
  });
});
