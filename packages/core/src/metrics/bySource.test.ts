import { describe, expect, it } from "vitest";
import {
  bySourceIsInformative,
  formatBySourceMarkdown,
  sourceFromCaseName,
  summarizeBySource,
  type CaseLabelScores,
} from "./bySource.js";

const label = (l: number, dsc: number, nsd: number, gtVoxels = 10) => ({ label: l, dsc, nsd, gtVoxels });

describe("sourceFromCaseName", () => {
  it("reads the dataset of a challenge name, else '-'", () => {
    expect(sourceFromCaseName("3DBox_MR_brats2015-flair_brats_0001.npz")).toBe("brats2015-flair");
    expect(sourceFromCaseName("out/2DBox_Microscopy_dsb2018-nuclei_dsb_0177.npz")).toBe("dsb2018-nuclei");
    expect(sourceFromCaseName("2DBox_MR_nested.npz")).toBe("-");
    expect(sourceFromCaseName("ct.nii.gz")).toBe("-");
  });
});

describe("summarizeBySource", () => {
  const cases: CaseLabelScores[] = [
    {
      case: "3DBox_MR_brats2015-flair_brats_0001.npz",
      modality: "MR",
      dsc: 0.3,
      nsd: 0.4,
      labels: [label(1, 0.2, 0.3), label(2, 0.6, 0.7), label(3, 0.1, 0.2)],
    },
    {
      case: "3DBox_MR_brats2015-flair_brats_0002.npz",
      modality: "MR",
      dsc: 0.5,
      nsd: 0.6,
      // Label 3 absent from the ground truth (a false positive's 0): not a case that holds it.
      labels: [label(1, 0.4, 0.5), label(2, 0.8, 0.9), label(3, 0, 0, 0)],
    },
    {
      case: "3DBox_MR_msd-hippocampus_hippo_0001.npz",
      modality: "MR",
      dsc: 0.9,
      nsd: 1,
      labels: [label(1, 0.9, 1), label(2, Number.NaN, Number.NaN)],
    },
    {
      case: "2DBox_Microscopy_nuclei_n_1.npz",
      modality: "Microscopy",
      dsc: 0.8,
      nsd: 0.9,
      labels: Array.from({ length: 9 }, (_, i) => label(i + 1, 0.8, 0.9)),
    },
  ];

  it("groups a modality's cases by source, with per-label means over the cases holding each label", () => {
    const rows = summarizeBySource(cases);
    expect(rows.map((r) => [r.modality, r.source, r.cases])).toEqual([
      ["MR", "brats2015-flair", 2],
      ["MR", "msd-hippocampus", 1],
      ["Microscopy", "nuclei", 1],
    ]);
    const brats = rows[0]!;
    expect(brats.meanDsc).toBeCloseTo(0.4, 12);
    expect(brats.meanNsd).toBeCloseTo(0.5, 12);
    expect(brats.labels!.map((l) => [l.label, l.objects])).toEqual([
      [1, 2],
      [2, 2],
      [3, 1],
    ]);
    expect(brats.labels![0]!.meanDsc).toBeCloseTo(0.3, 12);
    expect(brats.labels![2]!.meanDsc).toBeCloseTo(0.1, 12);
    // A NaN score (nothing to score) is left out of the mean, as in the modality table.
    expect(rows[1]!.labels!.map((l) => [l.label, l.meanDsc])).toEqual([
      [1, 0.9],
      [2, null],
    ]);
    // Nine labels in one case: instances, no per-label means.
    expect(rows[2]!.labels).toBeNull();
    expect(rows[2]!.maxLabels).toBe(9);
  });

  it("is worth a section when a modality mixes sources or a source has several class labels", () => {
    expect(bySourceIsInformative(summarizeBySource(cases))).toBe(true);
    expect(bySourceIsInformative(summarizeBySource(cases.slice(3)))).toBe(false); // one source of instances
    expect(bySourceIsInformative(summarizeBySource(cases.slice(2, 3)))).toBe(true); // anterior / posterior
  });

  it("formats a row per source, labels in the last column", () => {
    const md = formatBySourceMarkdown(summarizeBySource(cases));
    expect(md.split("\n")).toEqual([
      "| modality | source | cases | mean DSC | mean NSD | per label: DSC / NSD (cases with it) |",
      "| --- | --- | ---: | ---: | ---: | --- |",
      "| MR | brats2015-flair | 2 | 0.4000 | 0.5000 | 1: 0.300 / 0.400 (2) · 2: 0.700 / 0.800 (2) · 3: 0.100 / 0.200 (1) |",
      "| MR | msd-hippocampus | 1 | 0.9000 | 1.0000 | 1: 0.900 / 1.000 (1) · 2: n/a / n/a (1) |",
      "| Microscopy | nuclei | 1 | 0.8000 | 0.9000 | instances (up to 9 per case) |",
      "",
    ]);
  });
});
