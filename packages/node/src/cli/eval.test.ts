import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { writeNpz, type NdArray } from "@daft/core";
import { main } from "./eval.js";
import { csvRows as parseCsv } from "../testing/csvRows.js";

const u8 = (data: number[] | Uint8Array, shape: number[]): NdArray => ({
  data: Uint8Array.from(data),
  shape,
  dtype: "uint8",
});

/** A 2D label map with `label` inside the inclusive box [r0, c0]..[r1, c1]. */
function square(
  shape: [number, number],
  r0: number,
  c0: number,
  r1: number,
  c1: number,
  label = 1,
): Uint8Array {
  const out = new Uint8Array(shape[0] * shape[1]);
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out[r * shape[1] + c] = label;
  return out;
}

describe("daft eval", () => {
  let dir: string;
  let stderr: string;
  let stdout: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "daft-eval-"));
    await mkdir(join(dir, "pred"));
    await mkdir(join(dir, "gt"));
    stderr = "";
    stdout = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((stderr += String(chunk)), true));
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((stdout += String(chunk)), true));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (sub: string, name: string, arrays: Record<string, NdArray>) =>
    writeFile(join(dir, sub, name), writeNpz(arrays, { compress: true }));

  it("scores 2D and 3D cases, writes the reports and warns about unmatched files", async () => {
    const s2: [number, number] = [20, 20];
    // 2D: label 1 identical, label 2 missing from the prediction.
    const gt2 = square(s2, 2, 2, 6, 6, 1);
    gt2.set(square(s2, 10, 10, 15, 15, 2).map((v, i) => v || gt2[i]!));
    await put("gt", "2DBox_Microscope_a.npz", { gts: u8(gt2, s2) });
    await put("pred", "2DBox_Microscope_a.npz", { segs: u8(square(s2, 2, 2, 6, 6, 1), s2) });
    // 3D: a 4×4×4 cube predicted one slice off at spacing (3, 1, 1): DSC = 2·48/128 = 0.75.
    const s3 = [8, 8, 8];
    const cube = (z0: number) => {
      const m = new Uint8Array(512);
      for (let z = z0; z < z0 + 4; z++)
        for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) m[(z * 8 + y) * 8 + x] = 1;
      return m;
    };
    await put("gt", "3DBox_CT_b.npz", {
      gts: u8(cube(2), s3),
      spacing: { data: Float64Array.from([3, 1, 1]), shape: [3], dtype: "float64" },
    });
    await put("pred", "3DBox_CT_b.npz", {
      segs: { data: BigInt64Array.from(cube(3), (v) => BigInt(v)), shape: s3, dtype: "int64" },
    });
    // A gt without prediction and a prediction without gt.
    await put("gt", "3DBox_MR_c.npz", {
      gts: u8(cube(1), s3),
      spacing: { data: Float64Array.from([1, 1, 1]), shape: [3], dtype: "float64" },
    });
    await put("pred", "orphan.npz", { segs: u8(new Uint8Array(4), [2, 2]) });

    const code = await main([
      "--pred",
      join(dir, "pred"),
      "--gt",
      join(dir, "gt"),
      "-o",
      join(dir, "report"),
      "--quiet",
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain("orphan.npz: warning: no ground truth");
    expect(stderr).toContain("3DBox_MR_c.npz: warning: no prediction");

    const rows = parseCsv(await readFile(join(dir, "report", "metrics.csv"), "utf8"));
    const voxels = (gt: number, pred: number) => ({ gt_voxels: String(gt), pred_voxels: String(pred) });
    expect(rows).toEqual([
      {
        case: "2DBox_Microscope_a.npz",
        modality: "Microscope",
        label: "1",
        dsc: "1",
        nsd: "1",
        ...voxels(25, 25),
      },
      {
        case: "2DBox_Microscope_a.npz",
        modality: "Microscope",
        label: "2",
        dsc: "0",
        nsd: "0",
        ...voxels(36, 0),
      },
      expect.objectContaining({
        case: "3DBox_CT_b.npz",
        modality: "CT",
        label: "1",
        dsc: "0.75",
        ...voxels(64, 64),
      }),
      { case: "3DBox_MR_c.npz", modality: "MR", label: "1", dsc: "0", nsd: "0", ...voxels(64, 0) },
    ]);
    // One-slice (3 mm) shift of a 4×4×4 cube at spacing (3, 1, 1), by hand: per cube, face-interior
    // corners 2·9 (area 1) + 4·9 (area 3), 12 vertical edge corners (3·√2/2), 24 horizontal edge corners
    // (√10/2), 8 box corners (√19/8). Out of 2 mm reach: the cube's far cap (9 faces, 12 edge corners,
    // 4 box corners); the near cap's centre is 2 px from the other cube's sides, so within.
    const total = 2 * 9 + 4 * 9 * 3 + 12 * 3 * Math.SQRT1_2 + (24 * Math.sqrt(10)) / 2 + Math.sqrt(19);
    const out = 9 + (12 * Math.sqrt(10)) / 2 + Math.sqrt(19) / 2;
    expect(Number(rows[2]!.nsd)).toBeCloseTo((total - out) / total, 5);

    const cases = parseCsv(await readFile(join(dir, "report", "cases.csv"), "utf8"));
    expect(cases.map((c) => [c.case, c.dsc, c.prediction_missing])).toEqual([
      ["2DBox_Microscope_a.npz", "0.5", "false"],
      ["3DBox_CT_b.npz", "0.75", "false"],
      ["3DBox_MR_c.npz", "0", "true"],
    ]);
    const summary = JSON.parse(await readFile(join(dir, "report", "summary.json"), "utf8"));
    expect(summary.summary.overall.cases).toBe(3);
    expect(summary.summary.overall.meanDsc).toBeCloseTo((0.5 + 0.75 + 0) / 3, 12);
    expect(summary.missingPredictions).toEqual(["3DBox_MR_c.npz"]);
    expect(summary.ignoredPredictions).toEqual(["orphan.npz"]);
    const md = await readFile(join(dir, "report", "summary.md"), "utf8");
    expect(md).toContain("| Microscope | 1 | 0.5000 | 0.5000 |");
    // By source and label: the 2D case has two class labels (names without a dataset part share source "-").
    expect(md).toContain("## By source and label");
    expect(md).toContain(
      "| Microscope | - | 1 | 0.5000 | 0.5000 | 1: 1.000 / 1.000 (1) · 2: 0.000 / 0.000 (1) |",
    );
    expect(summary.bySource.map((r: { modality: string }) => r.modality)).toEqual(["CT", "MR", "Microscope"]);
    // By object size: 5×5 and 6×6 squares (< 8), 4×4×4 cubes (< 8 voxels' side), one missing in MR.
    expect(md).toContain("| Microscope | < 8 | 2 | 0.5000 | 0.500 |");
    expect(md).toContain("| CT | < 8 | 1 | 0.7500 | 1.000 |");
    expect(md).toContain("| MR | < 8 | 1 | 0.0000 | 0.000 |");
    expect(summary.byObjectSize).toHaveLength(3);
    // 3D by slice position: the CT cube spans z 2–5 (ends z 2, 5; 20–40 % z 3, 4), predicted on z 3–6.
    expect(md).toContain("## 3D: by slice position within each object");
    expect(md).toContain("| CT | ends (outer 20 %) | 1 | 2 | 32 | 16 | 0.6667 | 0.500 |");
    expect(md).toContain("| CT | 20–40 % from an end | 1 | 2 | 32 | 32 | 1.0000 | 1.000 |");
    expect(md).toContain("| CT | outside the object's slices | 1 | 1 | 0 | 16 | 0.0000 | – |");
    expect(md).toContain("| MR | ends (outer 20 %) | 1 | 2 | 32 | 0 | 0.0000 | 0.000 |");
    expect(summary.bySlicePosition).toHaveLength(5);
    expect(summary.cases[1].labels[0]).not.toHaveProperty("slicePosition");
    expect(stdout).toContain("| **mean over modalities** | 3 |");
    // The picture beside the table: a DSC and an NSD dot per case (the unpredicted one at 0), linked from it.
    const svg = await readFile(join(dir, "report", "summary.svg"), "utf8");
    expect(svg.match(/<circle /g)).toHaveLength(6);
    expect(svg).toContain(">MR (1)<");
    expect(md).toContain("![DSC and NSD per case, by modality](summary.svg)");
  });

  it("summary.md names the first 20 files of a note, summary.json all of them", async () => {
    const s2: [number, number] = [10, 10];
    for (let i = 0; i < 25; i++)
      await put("gt", `2DBox_US_${i}.npz`, { gts: u8(square(s2, 2, 2, 5, 5), s2) });
    await put("pred", "2DBox_US_3.npz", { segs: u8(square(s2, 2, 2, 5, 5), s2) });
    const args = ["--pred", join(dir, "pred"), "--gt", join(dir, "gt"), "-o", join(dir, "report"), "--quiet"];
    expect(await main([...args, "--only-predicted"])).toBe(0);
    const md = await readFile(join(dir, "report", "summary.md"), "utf8");
    const note = md
      .split("\n")
      .find((l) => l.startsWith("- 24 ground-truth case(s) without prediction left out"));
    expect(note?.match(/2DBox_US_\d+\.npz/g)).toHaveLength(20);
    expect(note).toContain(", … 4 more in summary.json");
    const summary = JSON.parse(await readFile(join(dir, "report", "summary.json"), "utf8"));
    expect(summary.leftOutWithoutPrediction).toHaveLength(24);
  });

  it("--only-predicted scores a subset; unmatched files are named up to five on the terminal, all in the report", async () => {
    const s2: [number, number] = [10, 10];
    for (let i = 0; i < 7; i++) await put("gt", `2DBox_US_${i}.npz`, { gts: u8(square(s2, 2, 2, 5, 5), s2) });
    await put("pred", "2DBox_US_3.npz", { segs: u8(square(s2, 2, 2, 5, 5), s2) });
    const args = ["--pred", join(dir, "pred"), "--gt", join(dir, "gt"), "-o", join(dir, "report"), "--quiet"];

    // Default: the six unpredicted cases score as empty masks; five are named, then a count.
    expect(await main(args)).toBe(0);
    expect(stderr.match(/warning: no prediction/g)).toHaveLength(5);
    expect(stderr).toContain("… and 1 more like it (all named in summary.json)");
    let summary = JSON.parse(await readFile(join(dir, "report", "summary.json"), "utf8"));
    expect(summary.summary.overall.cases).toBe(7);
    expect(summary.summary.overall.meanDsc).toBeCloseTo(1 / 7, 12);
    expect(summary.missingPredictions).toHaveLength(6);
    expect(stdout).toContain("- 6 case(s) without prediction, scored as empty: ");
    expect(stdout).toContain(", … 1 more in summary.json");
    expect(await readFile(join(dir, "report", "summary.md"), "utf8")).toContain("2DBox_US_6.npz");

    // --only-predicted: only the predicted case is scored, the others are listed as left out.
    stderr = "";
    expect(await main([...args, "--only-predicted"])).toBe(0);
    expect(stderr).not.toContain("warning");
    summary = JSON.parse(await readFile(join(dir, "report", "summary.json"), "utf8"));
    expect(summary.summary.overall.cases).toBe(1);
    expect(summary.summary.overall.meanDsc).toBe(1);
    expect(summary.missingPredictions).toEqual([]);
    expect(summary.leftOutWithoutPrediction).toHaveLength(6);
    expect(await readFile(join(dir, "report", "summary.md"), "utf8")).toContain(
      "- 6 ground-truth case(s) without prediction left out (--only-predicted): 2DBox_US_0.npz,",
    );

    // Nothing to score is an error, not an empty report.
    await rm(join(dir, "pred", "2DBox_US_3.npz"));
    stderr = "";
    expect(await main([...args, "--only-predicted"])).toBe(1);
    expect(stderr.trim()).toBe(
      `${join(dir, "pred")}: no prediction matches a ground-truth file in ${join(dir, "gt")}`,
    );
  });

  it("reports a shape mismatch as one line naming the prediction file and exits 1", async () => {
    await put("gt", "x.npz", { gts: u8(new Uint8Array(16).fill(1), [4, 4]) });
    await put("pred", "x.npz", { segs: u8(new Uint8Array(15), [3, 5]) });
    const code = await main(["--pred", join(dir, "pred"), "--gt", join(dir, "gt"), "--quiet"]);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `${join(dir, "pred", "x.npz")}: 'segs' shape (3, 5) does not match the ground truth's (4, 4)`,
    );
    // The report still goes to the default folder, the pred folder, and notes the failure.
    expect(await readFile(join(dir, "pred", "summary.md"), "utf8")).toContain(
      "1 case(s) could not be scored",
    );
  });

  it("rejects a 3D ground truth without spacing and a missing folder", async () => {
    await put("gt", "y.npz", { gts: u8(new Uint8Array(8), [2, 2, 2]) });
    expect(await main(["--pred", join(dir, "pred"), "--gt", join(dir, "gt"), "--quiet"])).toBe(1);
    expect(stderr).toContain(`${join(dir, "gt", "y.npz")}: 3D 'gts' needs a 'spacing' array`);
    stderr = "";
    expect(await main(["--pred", join(dir, "nope"), "--gt", join(dir, "gt")])).toBe(1);
    expect(stderr.trim()).toBe(`${join(dir, "nope")}: no such folder`);
    expect(await main(["--gt", join(dir, "gt")])).toBe(2);
  });

  it("draws the worst cases on their images from imgs/ beside gts/, worst first, and lists them in summary.md", async () => {
    await mkdir(join(dir, "gts"));
    await mkdir(join(dir, "imgs"));
    const shape: [number, number] = [20, 20];
    const gt = square(shape, 5, 5, 14, 14);
    // a: perfect; b: half the object missed; c: no image (drawn on black, one warning)
    for (const [name, pred] of [
      ["a", gt],
      ["b", square(shape, 5, 5, 14, 9)],
      ["c", square(shape, 5, 5, 14, 12)],
    ] as const) {
      await put("gts", `${name}.npz`, { gts: u8(gt, shape) });
      await put("pred", `${name}.npz`, { segs: u8(pred, shape) });
      if (name !== "c") await put("imgs", `${name}.npz`, { imgs: u8(new Uint8Array(400).fill(100), shape) });
    }
    const out = join(dir, "report");
    expect(
      await main([
        "--pred",
        join(dir, "pred"),
        "--gt",
        join(dir, "gts"),
        "-o",
        out,
        "--pictures",
        "2",
        "--quiet",
      ]),
    ).toBe(0);
    const md = await readFile(join(out, "summary.md"), "utf8");
    expect(md).toMatch(
      /## Worst cases\n\nThe 2 case\(s\) with the lowest DSC on their images \(1 without one, drawn on black: give --images\)/,
    );
    expect(md).toContain("| 1 | b.npz | unknown | 0.667 |");
    expect(md).toContain("| 2 | c.npz | unknown | 0.889 |");
    expect(md).not.toContain("| a.npz |");
    expect(stderr).toContain(`${join(dir, "imgs", "c")}: warning: no image for c.npz, drawn on black`);
    const { decode } = await import("fast-png");
    const b = decode(await readFile(join(out, "pictures", "b.png")));
    // 20×20 enlarged ×10; (row 10, column 12) is ground truth the prediction missed: blue over the flat image
    expect([b.width, b.height]).toEqual([200, 200]);
    const at = (x: number, y: number) => [...b.data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3)];
    expect(at(125, 105)).toEqual([24, 66, 153]);
    expect(at(75, 105)).toEqual([14, 70, 25]); // agreement: green at 0.35 over black (flat image scales to 0)
    stderr = "";
    expect(
      await main(["--pred", join(dir, "pred"), "--gt", join(dir, "gts"), "-o", out, "--pictures", "x"]),
    ).toBe(2);
    expect(stderr).toContain('--pictures must be a count ≥ 0 or "all"');
  });

  describe("mask confidence from daft segment's objects.csv", () => {
    const shape: [number, number] = [20, 20];
    /** Two microscopy cases of two nuclei each: three predicted exactly, one missed (DSC 0). */
    const twoCases = async () => {
      for (const name of ["2DBox_Microscopy_a.npz", "2DBox_Microscopy_b.npz"]) {
        const gt = square(shape, 2, 2, 6, 6, 1);
        gt.set(square(shape, 10, 10, 15, 15, 2).map((v, i) => v || gt[i]!));
        await put("gt", name, { gts: u8(gt, shape) });
        const pred = name.endsWith("a.npz") ? gt : square(shape, 2, 2, 6, 6, 1); // b misses label 2
        await put("pred", name, { segs: u8(pred, shape) });
      }
    };
    const header = "case,label,expert,voxels,mask_confidence,predicted_iou";

    it("reports per modality how confidence ranks the masks and how many failures the least confident hold", async () => {
      await twoCases();
      // The missed nucleus is the least confident: round(0.1 · 4) = 0 → 1 reviewed, and it is the failure.
      const rows = [
        "2DBox_Microscopy_a.npz,1,Microscopy,25,0.9000,0.8",
        "2DBox_Microscopy_a.npz,2,Microscopy,36,0.8000,0.8",
        "2DBox_Microscopy_b.npz,1,Microscopy,25,0.7000,0.8",
        "2DBox_Microscopy_b.npz,2,Microscopy,0,0.1000,0.8",
        "2DBox_Microscopy_c.npz,1,Microscopy,9,0.5000,0.8", // not scored: no ground truth
      ];
      await writeFile(join(dir, "pred", "objects.csv"), `${[header, ...rows].join("\n")}\n`);
      const out = join(dir, "report");
      expect(await main(["--pred", join(dir, "pred"), "--gt", join(dir, "gt"), "-o", out, "--quiet"])).toBe(
        0,
      );
      const md = await readFile(join(out, "summary.md"), "utf8");
      expect(md).toContain("## Mask confidence: which masks to check first");
      // DSC 1, 1, 1, 0 against confidence 0.9, 0.8, 0.7, 0.1: ranks (3, 3, 3, 1) vs (4, 3, 2, 1) → rho = 0.7746.
      expect(md).toContain("| Microscopy | 4 | 0.77 | 1 | 1/1 |");
      const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
      expect(summary.maskConfidence.objects).toBe(join(dir, "pred", "objects.csv"));
      expect(summary.maskConfidence.rows[1]).toMatchObject({ group: "all objects", objects: 4, caught: 1 });
      expect(summary.maskConfidence.rows[1].spearman).toBeCloseTo(3 / Math.sqrt(15), 6);
    });

    it("--objects names the file; one that cannot be read fails in one line, a bad one found in --pred only warns", async () => {
      await twoCases();
      const args = ["--pred", join(dir, "pred"), "--gt", join(dir, "gt"), "-o", join(dir, "r"), "--quiet"];
      expect(await main([...args, "--objects", join(dir, "none.csv")])).toBe(1);
      expect(stderr.trim()).toBe(`${join(dir, "none.csv")}: cannot read it (ENOENT)`);
      stderr = "";
      await writeFile(join(dir, "bad.csv"), `${header}\n2DBox_Microscopy_a.npz,1,Microscopy,25,1.7,0.8\n`);
      expect(await main([...args, "--objects", join(dir, "bad.csv")])).toBe(1);
      expect(stderr.trim()).toBe(`${join(dir, "bad.csv")}: line 2: mask_confidence "1.7" is not in [0, 1]`);
      stderr = "";
      await writeFile(join(dir, "pred", "objects.csv"), "case,label\n");
      expect(await main(args)).toBe(0);
      expect(stderr.trim()).toBe(
        `${join(dir, "pred", "objects.csv")}: is not daft segment's objects.csv (header "case,label") (warning: no mask-confidence section)`,
      );
      expect(await readFile(join(dir, "r", "summary.md"), "utf8")).not.toContain("## Mask confidence");
    });
  });
});
