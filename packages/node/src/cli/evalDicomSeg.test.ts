import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  decodeDicomStudy,
  encodeDicomSeg,
  encodeStudyLabels,
  readLabelMapFile,
  type Study,
} from "@daft/core";
import { smallSeriesSource, syntheticCtSeries } from "../../../core/src/testing/dicomSeries.js";
import { readDicomFileHeader } from "./dicomFolderScan.js";
import { main } from "./eval.js";
import { openDicomSegReader, pairBySeries } from "./evalDicomSeg.js";
import { csvRows as parseCsv } from "../testing/csvRows.js";

/** The 2-slice, 2-row, 3-column CT series (slice spacing 2.5 mm, pixels 0.8 × 0.7 mm), as daft segment reads it. */
const SERIES = syntheticCtSeries();
const STUDY = decodeDicomStudy(SERIES, "ct");
/** (z, y, x) labels on that series: not symmetric along any axis, so a flipped or transposed read shows. */
const LABELS = Uint16Array.from([1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 2, 2]);
const SEG_OPTIONS = { expert: "CT", softwareVersion: "0.1.0" };

function segOf(study: Study, labels: Uint16Array): Uint8Array {
  const seg = encodeDicomSeg(study.dicom!, labels, SEG_OPTIONS, study.source);
  if (!seg.written) throw new Error(seg.reason);
  return seg.bytes;
}

/** The label map `daft segment` writes for a DICOM input (NIfTI-1, the series' affine as RAS). */
async function niftiOf(study: Study, labels: Uint16Array): Promise<Uint8Array> {
  return (await encodeStudyLabels(study, labels)).bytes;
}

/** The challenge's case DSC, computed here from voxel counts: the mean over labels 1..max(gt) of 2|G∩P| / (|G|+|P|). */
function expectedDsc(gt: ArrayLike<number>, pred: ArrayLike<number>): number {
  const maxLabel = Math.max(...Array.from(gt));
  let sum = 0;
  for (let label = 1; label <= maxLabel; label++) {
    let g = 0;
    let p = 0;
    let both = 0;
    for (let i = 0; i < gt.length; i++) {
      g += gt[i] === label ? 1 : 0;
      p += pred[i] === label ? 1 : 0;
      both += gt[i] === label && pred[i] === label ? 1 : 0;
    }
    sum += (2 * both) / (g + p);
  }
  return sum / maxLabel;
}

describe("daft eval --dicom: DICOM-SEG files", () => {
  let dir: string;
  let stderr: string;
  const at = (...parts: string[]) => join(dir, ...parts);
  const evalArgs = (...extra: string[]) => [
    "--pred",
    at("pred"),
    "--gt",
    at("gt"),
    "-o",
    at("report"),
    "--quiet",
    ...extra,
  ];
  const cases = async () => parseCsv(await readFile(at("report", "cases.csv"), "utf8"));
  const summary = async () => JSON.parse(await readFile(at("report", "summary.json"), "utf8"));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "daft-eval-seg-"));
    for (const sub of ["pred", "gt", join("dicom", "study", "ct")]) await mkdir(at(sub), { recursive: true });
    for (const { name, bytes } of SERIES) await writeFile(at("dicom", "study", "ct", name), bytes);
    stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((stderr += String(chunk)), true));
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a SEG onto its series as daft segment's NIfTI of that series reads back: voxel order, spacing, affine", async () => {
    await writeFile(at("gt", "ct.seg.dcm"), segOf(STUDY, LABELS));
    const header = await readDicomFileHeader(at("gt", "ct.seg.dcm"));
    if (header?.kind !== "seg") throw new Error("not found as a SEG");
    const fromSeg = await (await openDicomSegReader(at("dicom"))).read(at("gt", "ct.seg.dcm"), header.seg);
    const fromNifti = await readLabelMapFile(await niftiOf(STUDY, LABELS), "ct.nii.gz", "ground truth");
    expect(Array.from(fromSeg.data)).toEqual(Array.from(LABELS));
    expect(Array.from(fromNifti.data)).toEqual(Array.from(LABELS));
    expect(fromSeg.shape).toEqual([2, 2, 3]);
    expect(fromNifti.shape).toEqual(fromSeg.shape);
    expect(fromSeg.spacing).toEqual([2.5, 0.8, 0.7]);
    fromNifti.spacing!.forEach((s, i) => expect(s).toBeCloseTo(fromSeg.spacing![i]!, 5));
    fromSeg.rasAffine!.flat().forEach((v, i) => expect(fromNifti.rasAffine!.flat()[i]).toBeCloseTo(v, 4));
  });

  it("a SEG scores DSC 1 against the NIfTI daft segment writes for its series, as gt or as prediction", async () => {
    await writeFile(at("gt", "ct.seg.dcm"), segOf(STUDY, LABELS));
    await writeFile(at("pred", "ct.nii.gz"), await niftiOf(STUDY, LABELS));
    expect(await main(evalArgs("--dicom", at("dicom")))).toBe(0);
    expect(stderr).toBe("");
    expect((await cases()).map((c) => [c.case, c.labels, c.dsc, c.nsd])).toEqual([
      ["ct.seg.dcm", "2", "1", "1"],
    ]);

    await rm(at("gt", "ct.seg.dcm"));
    await rm(at("pred", "ct.nii.gz"));
    await writeFile(at("gt", "ct.nii.gz"), await niftiOf(STUDY, LABELS));
    await writeFile(at("pred", "ct_0000.seg.dcm"), segOf(STUDY, LABELS)); // nnU-Net's image name pairs too
    expect(await main(evalArgs("--dicom", at("dicom")))).toBe(0);
    expect(stderr).toBe("");
    expect((await cases()).map((c) => [c.case, c.dsc, c.nsd])).toEqual([["ct.nii.gz", "1", "1"]]);
  });

  it("a 2D SEG on a single DICOM image scores against its NIfTI too", async () => {
    await mkdir(at("dicom", "single"));
    await writeFile(at("dicom", "single", "IM0"), SERIES[0]!.bytes);
    // The single image's own series UID would be the series'; keep only the single image below --dicom.
    await rm(at("dicom", "study"), { recursive: true });
    const image = decodeDicomStudy([SERIES[0]!], "IM0");
    expect(image.dimension).toBe(2);
    const labels = LABELS.slice(0, 6);
    await writeFile(at("gt", "IM0.seg.dcm"), segOf(image, labels));
    await writeFile(at("pred", "IM0.nii.gz"), await niftiOf(image, labels));
    expect(await main(evalArgs("--dicom", at("dicom")))).toBe(0);
    expect(stderr).toBe("");
    expect((await cases()).map((c) => [c.case, c.dsc])).toEqual([["IM0.seg.dcm", "1"]]);
  });

  it("pairs a pred SEG and a gt SEG on the same series though named differently (found by content, any name)", async () => {
    await writeFile(at("gt", "reference.seg.dcm"), segOf(STUDY, LABELS));
    await writeFile(at("pred", "1.2.826.0.1.3680043.8.498.5"), segOf(STUDY, LABELS));
    await writeFile(at("pred", "notes.txt"), "not DICOM");
    expect(await main(evalArgs("--dicom", at("dicom")))).toBe(0);
    expect(stderr).toBe("");
    expect((await cases()).map((c) => [c.case, c.dsc, c.prediction_missing])).toEqual([
      ["reference.seg.dcm", "1", "false"],
    ]);
    expect((await summary()).pairedBySeries).toEqual([
      { prediction: "1.2.826.0.1.3680043.8.498.5", groundTruth: "reference.seg.dcm" },
    ]);
  });

  it("a perturbed SEG scores the DSC its voxel counts give", async () => {
    // Label 1 loses a voxel and gains two; label 2 loses one of its two.
    const perturbed = Uint16Array.from([1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 2]);
    await writeFile(at("gt", "ct.seg.dcm"), segOf(STUDY, LABELS));
    await writeFile(at("pred", "ct.seg.dcm"), segOf(STUDY, perturbed));
    expect(await main(evalArgs("--dicom", at("dicom")))).toBe(0);
    const dsc = expectedDsc(LABELS, perturbed);
    // By hand: label 1 2·2/(3+4) = 4/7, label 2 2·1/(2+1) = 2/3.
    expect(dsc).toBeCloseTo((4 / 7 + 2 / 3) / 2, 12);
    const [row] = await cases();
    expect(Number(row!.dsc)).toBeCloseTo(dsc, 6);
    const labels = parseCsv(await readFile(at("report", "metrics.csv"), "utf8"));
    expect(labels.map((l) => [l.label, l.gt_voxels, l.pred_voxels])).toEqual([
      ["1", "3", "4"],
      ["2", "2", "1"],
    ]);
    // Its worst-case picture is drawn on the series the SEGs lie on (no --images needed), said in summary.md.
    const md = await readFile(at("report", "summary.md"), "utf8");
    expect(md).toContain("The 1 case(s) with the lowest DSC on their images;");
    expect(md).toContain("](pictures/ct.png) |");
    expect((await readFile(at("report", "pictures", "ct.png"))).subarray(1, 4).toString()).toBe("PNG");
    expect(stderr).toBe("");
  });

  it("a SEG whose series is not below --dicom: one line naming it, the case counted as failed", async () => {
    const orphan = encodeDicomSeg(smallSeriesSource(), new Uint16Array(18).fill(1), SEG_OPTIONS, "other");
    if (!orphan.written) throw new Error(orphan.reason);
    await writeFile(at("gt", "other.seg.dcm"), orphan.bytes);
    await writeFile(at("pred", "other.nii.gz"), await niftiOf(STUDY, LABELS));
    await writeFile(at("gt", "ct.seg.dcm"), segOf(STUDY, LABELS));
    await writeFile(at("pred", "ct.seg.dcm"), segOf(STUDY, LABELS));
    expect(await main(evalArgs("--dicom", at("dicom")))).toBe(1);
    expect(stderr.trim()).toBe(
      `${at("gt", "other.seg.dcm")}: DICOM-SEG refers to 3 image(s), none of them in --dicom ${at("dicom")} ` +
        "(among its 2 DICOM image(s))",
    );
    const report = await summary();
    expect(report.failed).toEqual([{ file: at("gt", "other.seg.dcm"), error: expect.any(String) }]);
    expect(report.cases.map((c: { case: string; dsc: number }) => [c.case, c.dsc])).toEqual([
      ["ct.seg.dcm", 1],
    ]);
  });

  it("without --dicom, or with a file named .seg.dcm that is no SEG: one line each, the case counted as failed", async () => {
    await writeFile(at("gt", "ct.seg.dcm"), segOf(STUDY, LABELS));
    await writeFile(at("pred", "ct.nii.gz"), await niftiOf(STUDY, LABELS));
    expect(await main(evalArgs())).toBe(1);
    expect(stderr.trim()).toBe(
      `${at("gt", "ct.seg.dcm")}: a DICOM-SEG is scored on the DICOM series it was made on: ` +
        "give --dicom <folder holding that series>",
    );
    expect((await summary()).failed).toHaveLength(1);

    stderr = "";
    await writeFile(at("pred", "ct.seg.dcm"), SERIES[0]!.bytes); // a CT slice
    await rm(at("pred", "ct.nii.gz"));
    expect(await main(evalArgs("--dicom", at("dicom")))).toBe(1);
    expect(stderr.trim()).toBe(
      `${at("pred", "ct.seg.dcm")}: not a readable DICOM Segmentation (SOP Class 1.2.840.10008.5.1.4.1.1.66.4), ` +
        "though named like one",
    );
  });

  it("a --dicom folder that is missing is an error; one with no SEG to read is a warning", async () => {
    await writeFile(at("gt", "ct.seg.dcm"), segOf(STUDY, LABELS));
    expect(await main(evalArgs("--dicom", at("nowhere")))).toBe(1);
    expect(stderr.trim()).toBe(`${at("nowhere")}: no such folder`);

    stderr = "";
    await rm(at("gt", "ct.seg.dcm"));
    await writeFile(at("gt", "ct.nii.gz"), await niftiOf(STUDY, LABELS));
    await writeFile(at("pred", "ct.nii.gz"), await niftiOf(STUDY, LABELS));
    expect(await main(evalArgs("--dicom", at("dicom")))).toBe(0);
    expect(stderr.trim()).toBe(
      `${at("dicom")}: warning: no DICOM-SEG in the pred or gt folder; --dicom is not read`,
    );
  });
});

describe("pairBySeries", () => {
  it("pairs the only unpaired pred SEG and gt SEG of a series; two on one side pair with nothing", () => {
    const gt = new Map([
      ["liver", "S1"],
      ["kidney-a", "S2"],
      ["kidney-b", "S2"],
      ["lung", "S3"],
    ]);
    const pred = new Map([
      ["liver-pred", "S1"],
      ["kidney-pred", "S2"],
      ["spleen", "S4"],
    ]);
    expect([...pairBySeries(gt, pred)]).toEqual([["liver-pred", "liver"]]);
  });
});
