import { describe, expect, it } from "vitest";
import { confidenceTriage, formatConfidenceTriageMarkdown, spearman } from "./confidenceTriage.js";

describe("spearman", () => {
  it("is 1 for the same order, −1 for the reverse, and averages tied ranks", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // x ranks 1, 2.5, 2.5, 4; y ranks 1..4: Pearson of the ranks = 4.5 / sqrt(4.5 · 5).
    expect(spearman([1, 5, 5, 9], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});

describe("confidenceTriage", () => {
  // Microscopy: 20 objects, DSC rising with confidence except two crisp failures; US: 3 good objects.
  const microscopy = Array.from({ length: 20 }, (_, i) => ({
    modality: "Microscopy",
    confidence: i / 20,
    dsc: i < 2 ? 0.3 : 0.6 + i / 100,
  }));
  microscopy[19]!.dsc = 0.1; // the most confident mask failed: no review order finds it first
  const us = [0.9, 0.8, 0.95].map((dsc, i) => ({ modality: "US", confidence: 0.5 + i / 10, dsc }));

  it("per modality and pooled: correlation, failures, and the failures met in the least confident tenth", () => {
    const rows = confidenceTriage([...us, ...microscopy]);
    expect(rows.map((r) => r.group)).toEqual(["Microscopy", "US", "all objects"]);
    const [m, u, all] = rows;
    // Microscopy reviews round(0.1 · 20) = 2 objects: the two least confident, both failures; the third is not met.
    expect(m).toMatchObject({ objects: 20, failures: 3, caught: 2, reviewed: 2 });
    expect(u).toMatchObject({ objects: 3, failures: 0, caught: 0, reviewed: 1 });
    expect(u!.spearman).toBeCloseTo(spearman([0.5, 0.6, 0.7], [0.9, 0.8, 0.95]), 12);
    expect(all).toMatchObject({ objects: 23, failures: 3, caught: 2, reviewed: 3 });
    const md = formatConfidenceTriageMarkdown(rows);
    expect(md).toContain("| Microscopy | 20 |");
    expect(md).toContain("| 3 | 2/3 |");
    expect(md).toContain("| US | 3 | 0.50 | 0 | – |");
    expect(md).toContain("| **all objects** | 23 |");
  });

  it("takes the review share and the failure threshold as options", () => {
    const rows = confidenceTriage(microscopy, { review: 0.5, failBelow: 0.65 });
    // Failures below 0.65: the two at 0.3, i = 2..4 (0.62, 0.63, 0.64), the crisp 0.1 → 6; 10 reviewed meet 5.
    expect(rows[0]).toMatchObject({ failures: 6, caught: 5, reviewed: 10 });
  });
});
