/**
 * `daft selector train|eval` and `daft subsets propose` on a synthetic imported-cases folder, plus the selector on a
 * few real cases of ../shared/datasets when that folder exists.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  SeededRandom,
  decodeChallengeCase,
  evaluateSelector,
  formatCasesCsv,
  importCase,
  metaFeaturesOfCase,
  parseDatasetJson,
  parseSelector,
  parseSubsets,
  trainSelector,
  writeNpz,
  type CaseRow,
  type NdArray,
  type SelectorSample,
} from "@daft/core";
import { main as selectorMain } from "./selector.js";
import { main as subsetsMain } from "./subsets.js";

/** Runs a CLI main with stdout/stderr captured. */
async function run(main: (args: string[]) => Promise<number>, args: string[]) {
  let stdout = "";
  let stderr = "";
  const out = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi
    .spyOn(process.stderr, "write")
    .mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Synthetic cases whose modalities look different: reddish RGB, dark speckle, bright smooth, MR volumes. */
function syntheticCase(modality: string, rng: SeededRandom): Record<string, NdArray> {
  const box = (h: number, w: number) => {
    const x0 = rng.int(w / 2);
    const y0 = rng.int(h / 2);
    return [x0, y0, x0 + 4 + rng.int(w / 3), y0 + 4 + rng.int(h / 3)];
  };
  if (modality === "MR") {
    const [d, h, w] = [10 + rng.int(6), 32, 32];
    const data = new Uint8Array(d * h * w).map((_, i) => 60 + ((i * 7) % 50) + rng.int(40));
    const b = box(h, w);
    return {
      imgs: { data, shape: [d, h, w], dtype: "uint8" },
      boxes: { data: Int32Array.from([b[0]!, b[1]!, 1, b[2]!, b[3]!, d - 2]), shape: [1, 6], dtype: "int32" },
      spacing: { data: Float64Array.from([3, 1, 1]), shape: [3], dtype: "float64" },
    };
  }
  let image: NdArray;
  let h: number;
  let w: number;
  if (modality === "Endoscopy") {
    [h, w] = [48 + rng.int(16), 64 + rng.int(16)];
    const data = new Uint8Array(h * w * 3);
    for (let i = 0; i < h * w; i++) {
      data[i * 3] = 150 + rng.int(80);
      data[i * 3 + 1] = 60 + rng.int(40);
      data[i * 3 + 2] = 50 + rng.int(40);
    }
    image = { data, shape: [h, w, 3], dtype: "uint8" };
  } else if (modality === "US") {
    [h, w] = [80 + rng.int(20), 100 + rng.int(20)];
    image = {
      data: new Uint8Array(h * w).map(() => (rng.next() < 0.3 ? 0 : rng.int(90))),
      shape: [h, w],
      dtype: "uint8",
    };
  } else {
    [h, w] = [120 + rng.int(20), 120 + rng.int(20)];
    const data = new Uint8Array(h * w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data[y * w + x] = 110 + Math.round((120 * y) / h) + rng.int(4);
    image = { data, shape: [h, w], dtype: "uint8" };
  }
  return { imgs: image, boxes: { data: Int32Array.from(box(h, w)), shape: [1, 4], dtype: "int32" } };
}

const MODALITIES = [
  { modality: "Endoscopy", dataset: "endo-set", dimension: 2, count: 30 },
  { modality: "US", dataset: "us-set", dimension: 2, count: 20 },
  { modality: "XRay", dataset: "xray-set", dimension: 2, count: 15 },
  { modality: "MR", dataset: "mr-set", dimension: 3, count: 12 },
];

describe("daft selector / daft subsets on a synthetic cases folder", () => {
  let dir = "";
  const rows: CaseRow[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "daft-selector-"));
    const rng = new SeededRandom(11);
    for (const m of MODALITIES) {
      for (let i = 0; i < m.count; i++) {
        const split = i % 5 === 0 ? "test" : i % 5 === 1 ? "val" : "train";
        const caseId = `case_${String(i).padStart(4, "0")}`;
        const name = `${m.dimension}DBox_${m.modality}_${m.dataset}_${caseId}`;
        const arrays = syntheticCase(m.modality, rng);
        mkdirSync(join(dir, split, "imgs"), { recursive: true });
        writeFileSync(join(dir, split, "imgs", `${name}.npz`), writeNpz(arrays, { compress: true }));
        const shape = arrays.imgs!.shape;
        rows.push({
          name,
          dataset: m.dataset,
          modality: m.modality,
          dimension: String(m.dimension),
          case: caseId,
          split,
          objects: "1",
          object_names: "thing",
          height: String(m.dimension === 3 ? shape[1] : shape[0]),
          width: String(m.dimension === 3 ? shape[2] : shape[1]),
          depth: m.dimension === 3 ? String(shape[0]) : "",
        });
      }
    }
    writeFileSync(join(dir, "cases.csv"), formatCasesCsv(rows));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("trains a selector, then scores it on the test split as Markdown and JSON", async () => {
    const selectorPath = join(dir, "selector.json");
    const trained = await run(selectorMain, [
      "train",
      "--cases",
      dir,
      "-o",
      selectorPath,
      "--seed",
      "3",
      "--quiet",
    ]);
    expect(trained.stderr).toBe("");
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/^2D: 3 modalities \(Endoscopy, US, XRay\); model /m);
    expect(trained.stdout).toMatch(/^3D: 1 modality \(MR\); model single-class/m);
    const selector = parseSelector(JSON.parse(readFileSync(selectorPath, "utf8")));
    expect(selector.models["2d"]!.training!.seed).toBe(3);

    const evaluated = await run(selectorMain, [
      "eval",
      "--cases",
      dir,
      "--selector",
      selectorPath,
      "--quiet",
    ]);
    expect(evaluated.code).toBe(0);
    expect(evaluated.stdout).toContain("## 2D — 13 cases");
    expect(evaluated.stdout).toContain("| true \\ predicted | Endoscopy | US | XRay |");
    const report = JSON.parse(readFileSync(join(dir, "selector.eval-test.json"), "utf8")) as {
      report: {
        "2d": { accuracy: number; majorityBaseline: { accuracy: number } };
        "3d": { accuracy: number };
      };
    };
    expect(report.report["2d"].accuracy).toBe(1);
    expect(report.report["2d"].majorityBaseline.accuracy).toBeLessThan(0.5);
    expect(report.report["3d"].accuracy).toBe(1);
    expect(readFileSync(join(dir, "selector.eval-test.md"), "utf8")).toContain(
      "Compared with the paper's meta-model",
    );
  });

  it("reports an unreadable case on one line and fails unless --skip-bad", async () => {
    const selectorPath = join(dir, "selector-bad.json");
    await run(selectorMain, ["train", "--cases", dir, "-o", selectorPath, "--quiet"]);
    const victim = rows.find((r) => r.split === "test" && r.modality === "US")!;
    const path = join(dir, "test", "imgs", `${victim.name}.npz`);
    const original = readFileSync(path);
    writeFileSync(path, "not a zip");
    try {
      const failed = await run(selectorMain, ["eval", "--cases", dir, "--selector", selectorPath, "--quiet"]);
      expect(failed.code).toBe(1);
      const lines = failed.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]!.startsWith(`${path}: `)).toBe(true);
      const skipped = await run(selectorMain, [
        "eval",
        "--cases",
        dir,
        "--selector",
        selectorPath,
        "--quiet",
        "--skip-bad",
      ]);
      expect(skipped.code).toBe(0);
      expect(skipped.stdout).toContain("## 2D — 12 cases");
    } finally {
      writeFileSync(path, original);
    }
    const missing = await run(selectorMain, ["eval", "--cases", dir, "--selector", join(dir, "nope.json")]);
    expect(missing).toMatchObject({ code: 1, stderr: `${join(dir, "nope.json")}: not found\n` });
  });

  it("proposes subsets whose clusters follow the modalities and names the criterion", async () => {
    const out = join(dir, "subsets.json");
    const result = await run(subsetsMain, ["propose", "--cases", dir, "-o", out, "--quiet"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^criterion: .*highest mean silhouette/);
    const subsets = parseSubsets(JSON.parse(readFileSync(out, "utf8")));
    const g = subsets.groups["2d"]!;
    expect(g.kChosenBy).toBe("silhouette");
    expect(g.silhouettes.map((s) => s.k)[0]).toBe(2);
    expect(g.agreement.modalityPurity).toBe(1);
    const members = Object.values(g.subsets).flatMap((s) => s.cases);
    expect(members).toContain("endo-set/case_0002");
    expect(members).toHaveLength(rows.filter((r) => r.split === "train" && r.dimension === "2").length);
    // val cases are routed by nearest centroid (as the engine would route them), for the training package
    const routed = Object.values(g.subsets).flatMap((s) => s.valCases ?? []);
    expect(routed.sort()).toEqual(
      rows
        .filter((r) => r.split === "val" && r.dimension === "2")
        .map((r) => `${r.dataset}/${r.case}`)
        .sort(),
    );
    for (const s of Object.values(g.subsets)) {
      const datasets = new Set(s.cases.map((id) => id.split("/")[0]));
      expect((s.valCases ?? []).every((id) => datasets.has(id.split("/")[0]!))).toBe(true);
    }
    expect(result.stdout).toMatch(/2d-cluster-0: \d+ cases \(\+ \d+ val\)/);
  });
});

const SHARED = new URL("../../../../../shared/datasets/", import.meta.url);
const sharedDir = decodeURIComponent(SHARED.pathname);

describe.skipIf(!existsSync(sharedDir))("the selector on real cases of ../shared/datasets", () => {
  it("recognises the modality of held-out real 2D cases far above the majority class", () => {
    const samples: (SelectorSample & { test: boolean })[] = [];
    for (const name of [
      "kvasir-seg",
      "dsb2018-nuclei",
      "hc18-fetal-head",
      "cxr-lungs",
      "ph2-dermoscopy",
      "drishti-gs-optic",
      "ddsm-tissue",
      "covid-ct-infection",
    ]) {
      const root = join(sharedDir, name);
      const spec = parseDatasetJson(readFileSync(join(root, "dataset.json"), "utf8"), name);
      // Endoscopy gets more cases, so the majority class is a real baseline.
      const count = name === "kvasir-seg" ? 24 : 9;
      spec.cases.slice(0, count).forEach((entry, i) => {
        const imported = importCase(spec, entry, {
          imageBytes: new Uint8Array(readFileSync(join(root, entry.image))),
          labelBytes: new Uint8Array(readFileSync(join(root, entry.label))),
          imageName: entry.image,
          labelName: entry.label,
        });
        const kase = decodeChallengeCase(new Map(Object.entries(imported.imgsNpz)), imported.name);
        const features = metaFeaturesOfCase(kase);
        samples.push({
          dimension: features.dimension,
          label: spec.modality,
          values: features.values,
          test: i % 3 === 0,
        });
      });
    }
    const train = samples.filter((s) => !s.test);
    const selector = trainSelector(train, [], {
      seed: 0,
      candidates: [
        { hidden: 0, l2: 1e-2, balanced: false },
        { hidden: 0, l2: 1e-3, balanced: true },
      ],
      epochs: 80,
    });
    const report = evaluateSelector(
      selector,
      samples.filter((s) => s.test),
    )["2d"]!;
    expect(report.majorityBaseline.modality).toBe("Endoscopy");
    expect(report.accuracy).toBeGreaterThan(report.majorityBaseline.accuracy + 0.4);
    expect(report.accuracy).toBeGreaterThanOrEqual(0.85);
  }, 30_000);
});
