/**
 * End to end: `daft segment --dicom-seg` writes a NIfTI and a DICOM-SEG of a DICOM series, and `daft eval --dicom`
 * scores them against each other and against a second run's SEG, as a user runs both (the built CLI, fresh
 * processes). The series is the core's tiny synthetic CT (2 slices of 2 × 3), written to disk here, and pydicom's
 * oblique CT series of dicomSeg.e2e.test.ts (4 slices of 29 × 37, files named out of slice order) when
 * /usr/bin/python3 has pydicom (always in CI).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { syntheticCtSeries } from "../../core/src/testing/dicomSeries.js";
import { daft, tempDir } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const CI = process.env.CI === "true";
const hasPydicom = spawnSync(PYTHON, ["-c", "import pydicom, numpy"], { stdio: "ignore" }).status === 0;

interface Report {
  cases: { case: string; dsc: number; nsd: number; predictionMissing: boolean }[];
  pairedBySeries: { prediction: string; groundTruth: string }[];
  failed: { file: string; error: string }[];
}

describe("daft eval --dicom on daft segment --dicom-seg's files", () => {
  let dir = "";
  const at = (...parts: string[]) => join(dir, ...parts);
  /** Box-baseline labels of the series: each box its own label (x0,y0,z0,x1,y1,z1, corners inclusive). */
  const segment = (out: string, boxes: string[]) =>
    daft([
      "segment",
      at("dicom", "ct"),
      "-o",
      out,
      "--dicom-seg",
      "--baseline",
      "box",
      ...boxes.flatMap((b) => ["--box", b]),
      "--quiet",
    ]);
  /** A folder holding copies of `files` under new names. */
  const folderOf = (name: string, files: Record<string, string>) => {
    mkdirSync(at(name));
    for (const [as, from] of Object.entries(files)) copyFileSync(from, at(name, as));
    return at(name);
  };
  const evaluate = (pred: string, gt: string, ...extra: string[]) =>
    daft(["eval", "--pred", pred, "--gt", gt, "-o", join(pred, "report"), "--quiet", ...extra]);
  const reportOf = (pred: string) =>
    JSON.parse(readFileSync(join(pred, "report", "summary.json"), "utf8")) as Report;

  beforeAll(() => {
    dir = tempDir("daft-eval-dicom-seg-");
    mkdirSync(at("dicom", "ct"), { recursive: true });
    for (const { name, bytes } of syntheticCtSeries()) writeFileSync(at("dicom", "ct", name), bytes);
    // Label 1: x 0–1 of row 0 on both slices (4 voxels); label 2: one voxel on the second slice.
    const reference = segment(at("reference"), ["0,0,0,1,0,1", "2,1,1,2,1,1"]);
    expect(reference.stderr).toBe("");
    expect(reference.code).toBe(0);
    // Label 1 grown to both rows (8 voxels, the reference's 4 among them); no label 2.
    const grown = segment(at("grown"), ["0,0,0,1,1,1"]);
    expect(grown.code).toBe(0);
  });

  it("the SEG scores DSC 1 and NSD 1 against the NIfTI of the same run, either way round", () => {
    for (const [pred, gt] of [
      [{ "ct.nii.gz": at("reference", "ct.nii.gz") }, { "ct.seg.dcm": at("reference", "ct.seg.dcm") }],
      [{ "ct.seg.dcm": at("reference", "ct.seg.dcm") }, { "ct.nii.gz": at("reference", "ct.nii.gz") }],
    ] as const) {
      const name = Object.keys(pred)[0]!.endsWith(".dcm") ? "seg-vs-nifti" : "nifti-vs-seg";
      const predDir = folderOf(`${name}-pred`, pred);
      const r = evaluate(predDir, folderOf(`${name}-gt`, gt), "--dicom", at("dicom"));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(reportOf(predDir).cases).toEqual([expect.objectContaining({ dsc: 1, nsd: 1 })]);
    }
  });

  it("a SEG of another run, named differently, pairs by series and scores its overlap", () => {
    const pred = folderOf("grown-pred", { "model-output.seg.dcm": at("grown", "ct.seg.dcm") });
    const gt = folderOf("reference-gt", { "ct.seg.dcm": at("reference", "ct.seg.dcm") });
    const r = evaluate(pred, gt, "--dicom", at("dicom"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = reportOf(pred);
    expect(report.pairedBySeries).toEqual([
      { prediction: "model-output.seg.dcm", groundTruth: "ct.seg.dcm" },
    ]);
    // Label 1: 2·4 / (4 + 8); label 2 missing from the prediction: 0.
    expect(report.cases).toHaveLength(1);
    expect(report.cases[0]!.dsc).toBeCloseTo((8 / 12 + 0) / 2, 6);
    expect(report.cases[0]!.predictionMissing).toBe(false);
  });

  it("without --dicom: one line naming the SEG, exit 1", () => {
    const pred = folderOf("no-dicom-pred", { "ct.nii.gz": at("reference", "ct.nii.gz") });
    const r = evaluate(pred, folderOf("no-dicom-gt", { "ct.seg.dcm": at("reference", "ct.seg.dcm") }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${at("no-dicom-gt", "ct.seg.dcm")}: a DICOM-SEG is scored on the DICOM series it was made on: ` +
        "give --dicom <folder holding that series>\n",
    );
    expect(reportOf(pred).failed).toHaveLength(1);
  });
});

describe.skipIf(!hasPydicom && !CI)("daft eval --dicom on an oblique series written by pydicom", () => {
  it("the SEG daft segment writes scores DSC 1 against its NIfTI: slices sorted alike, the same oblique grid", () => {
    const dir = tempDir("daft-eval-dicom-seg-oblique-");
    const make = spawnSync(PYTHON, [join(import.meta.dirname, "dicom_seg_inputs.py"), join(dir, "dicom")], {
      encoding: "utf8",
    });
    if (make.status !== 0) throw new Error(`dicom_seg_inputs.py: ${make.stderr}`);
    const out = join(dir, "out");
    const segmented = daft([
      "segment",
      join(dir, "dicom", "series"),
      "-o",
      out,
      "--dicom-seg",
      "--baseline",
      "box",
      ...["2,3,0,20,15,1", "22,18,1,34,27,3"].flatMap((b) => ["--box", b]),
      "--quiet",
    ]);
    expect(segmented.code).toBe(0);
    for (const [pred, gt] of [
      ["series.nii.gz", "series.seg.dcm"],
      ["series.seg.dcm", "series.nii.gz"],
    ] as const) {
      const predDir = join(dir, `pred-${pred}`);
      const gtDir = join(dir, `gt-${gt}`);
      mkdirSync(predDir);
      mkdirSync(gtDir);
      copyFileSync(join(out, pred), join(predDir, pred));
      copyFileSync(join(out, gt), join(gtDir, gt));
      const r = daft(["eval", "--pred", predDir, "--gt", gtDir, "--dicom", join(dir, "dicom"), "--quiet"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const report = JSON.parse(readFileSync(join(predDir, "summary.json"), "utf8")) as Report;
      expect(report.cases).toEqual([expect.objectContaining({ case: gt, dsc: 1, nsd: 1 })]);
    }
  });
});
