import { describe, expect, it } from "vitest";
import { summarizeScores, type CaseScore } from "../metrics/summary.js";
import { scoreStripPlotSvg } from "./scorePlot.js";

const scores: CaseScore[] = [
  { case: "a", modality: "US", dsc: 0.9, nsd: 0.5 },
  { case: "b", modality: "US", dsc: 0.7, nsd: 0.3 },
  { case: "c", modality: "CT", dsc: 0.1, nsd: Number.NaN }, // NSD not computed: no dot
  { case: "d", modality: "CT", dsc: 0.5, nsd: 0.2 },
];

describe("scoreStripPlotSvg", () => {
  const svg = scoreStripPlotSvg(scores, summarizeScores(scores), "test <split> & more");

  it("draws a dot per finite score and a mean bar per modality and metric", () => {
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(4 + 3);
    // Mean bars (2.5 px red lines): 2 modalities × 2 metrics, labelled with the summary's means.
    expect(svg.match(/stroke-width="2.5"/g)).toHaveLength(4);
    for (const mean of ["0.800", "0.400", "0.300", "0.200"]) expect(svg).toContain(`>${mean}</text>`);
    // Rows in the summary's (sorted) order, with case counts.
    expect(svg.indexOf(">CT (2)<")).toBeLessThan(svg.indexOf(">US (2)<"));
  });

  it("places scores on a 0–1 axis per panel and escapes text", () => {
    // DSC panel starts at x = 170 and is 300 px wide: 0.9 → 440; NSD panel starts at 540: 0.5 → 690.
    expect(svg).toMatch(/<circle cx="440" /);
    expect(svg).toMatch(/<circle cx="690" /);
    expect(svg).toContain("test &#60;split&#62; &#38; more");
    expect(svg).not.toContain("<split>");
  });

  it("is the same picture on every run", () => {
    expect(scoreStripPlotSvg(scores, summarizeScores(scores), "test <split> & more")).toBe(svg);
  });
});
