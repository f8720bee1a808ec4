import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SPLIT_NAMES, decodeDicomStudy, encodeDicomSeg, parseCasesCsv, readNpz } from "@daft/core";
import { smallSeriesSource, syntheticCtSeries } from "../../../core/src/testing/dicomSeries.js";
import { main, unheldSplits } from "./data.js";

const repoRoot = join(import.meta.dirname, "../../../..");
const mini = join(repoRoot, "fixtures/dataset-mini");

interface ExpectedCase {
  name: string;
  split: string;
  shape: number[];
  objects: string[];
  boxes: number[][];
  spacing?: number[];
}
const expected = JSON.parse(readFileSync(join(mini, "expected.json"), "utf8")) as {
  datasets: Record<string, Record<string, ExpectedCase>>;
};
const datasetNames = Object.keys(expected.datasets);

let stderr: string[] = [];
let temp: string;

beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  temp = mkdtempSync(join(tmpdir(), "daft-data-"));
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(temp, { recursive: true, force: true });
});

/** Every .npz under out, as "split/kind/name.npz". */
function listCaseFiles(out: string): string[] {
  const files: string[] = [];
  for (const split of SPLIT_NAMES) {
    for (const kind of ["imgs", "gts"]) {
      const folder = join(out, split, kind);
      if (existsSync(folder)) for (const name of readdirSync(folder)) files.push(`${split}/${kind}/${name}`);
    }
  }
  return files.sort();
}

describe("daft data import", () => {
  it("imports the dataset-mini fixture: files per split, boxes, gts, spacing and cases.csv", async () => {
    const out = join(temp, "cases");
    const code = await main(["import", ...datasetNames.map((name) => join(mini, name)), "-o", out]);
    expect(code, stderr.join("")).toBe(0);

    const allCases = Object.entries(expected.datasets).flatMap(([dataset, cases]) =>
      Object.entries(cases).map(([caseId, want]) => ({ dataset, caseId, want })),
    );
    expect(listCaseFiles(out)).toEqual(
      allCases
        .flatMap(({ want }) => [`${want.split}/gts/${want.name}.npz`, `${want.split}/imgs/${want.name}.npz`])
        .sort(),
    );
    for (const { want } of allCases) {
      const imgs = readNpz(new Uint8Array(readFileSync(join(out, want.split, "imgs", `${want.name}.npz`))));
      const gts = readNpz(new Uint8Array(readFileSync(join(out, want.split, "gts", `${want.name}.npz`))));
      expect(imgs.get("imgs")?.shape).toEqual(want.shape);
      expect(imgs.get("imgs")?.dtype).toBe("uint8");
      expect(Array.from(imgs.get("boxes")!.data as Int32Array)).toEqual(want.boxes.flat());
      const labelMap = gts.get("gts")!;
      expect(labelMap.dtype).toBe("uint16");
      const spatial = want.spacing ? want.shape : want.shape.slice(0, 2);
      expect(labelMap.shape).toEqual(spatial);
      // Each object's box minimum corner is inside it; objects never overlap in the fixture except the
      // drishti-like disc, whose rim corner keeps value 1 because the cup lies strictly inside it.
      want.boxes.forEach((box, index) => {
        const at =
          spatial.length === 3
            ? (box[2]! * spatial[1]! + box[1]!) * spatial[2]! + box[0]!
            : box[1]! * spatial[1]! + box[0]!;
        expect(labelMap.data[at], `${want.name} object ${index}`).toBe(index + 1);
      });
      if (want.spacing) {
        expect(Array.from(imgs.get("spacing")!.data as Float64Array)).toEqual(want.spacing);
        expect(Array.from(gts.get("spacing")!.data as Float64Array)).toEqual(want.spacing);
      } else {
        expect(imgs.has("spacing")).toBe(false);
      }
    }

    const rows = parseCasesCsv(readFileSync(join(out, "cases.csv"), "utf8"));
    expect(rows.map((row) => row.name).sort()).toEqual(allCases.map(({ want }) => want.name).sort());
    for (const { dataset, caseId, want } of allCases) {
      const row = rows.find((candidate) => candidate.name === want.name)!;
      expect(row).toMatchObject({
        dataset,
        case: caseId,
        split: want.split,
        dimension: want.spacing ? "3" : "2",
        objects: String(want.objects.length),
        object_names: want.objects.join(";"),
        height: String(want.spacing ? want.shape[1] : want.shape[0]),
        width: String(want.spacing ? want.shape[2] : want.shape[1]),
        depth: want.spacing ? String(want.shape[0]) : "",
      });
    }
    const text = stderr.join("");
    expect(text).toMatch(/optic-mini \[#+\] 4\/4 100%/);
    expect(text).toMatch(/optic-mini: train 2, val 0, test 2; 6 objects/);
    expect(text).toMatch(/daft data import: 10 cases written/);
  });

  it("warns about a dataset the hash split leaves without validation or test cases", async () => {
    const out = join(temp, "cases");
    // optic-mini: 2 train, 2 test, no validation case; nuclei-mini: no test case; --splits does not hide it.
    expect(
      await main([
        "import",
        join(mini, "optic-mini"),
        join(mini, "nuclei-mini"),
        "-o",
        out,
        "--splits",
        "train",
        "--quiet",
      ]),
    ).toBe(0);
    const lines = stderr.join("").split("\n");
    expect(lines).toContain(
      "optic-mini: warning: no case in val (4 cases, hash split): validation cannot select an expert for it",
    );
    expect(lines).toContain(
      "nuclei-mini: warning: no case in test (3 cases, hash split): the test split does not score it",
    );
    expect(unheldSplits({ train: 6, val: 0, test: 0 })).toBe(
      "no case in val or test (6 cases, hash split): validation cannot select an expert for it and the test " +
        "split does not score it",
    );
    expect(unheldSplits({ train: 1, val: 1, test: 1 })).toBeUndefined();
    expect(unheldSplits({ train: 0, val: 0, test: 0 })).toBeUndefined();
  });

  it("is idempotent: a second run writes the same bytes", async () => {
    const out = join(temp, "cases");
    const args = ["import", join(mini, "optic-mini"), join(mini, "hippo-mini"), "-o", out];
    expect(await main(args)).toBe(0);
    const snapshot = (files: string[]) =>
      files.map((file) => readFileSync(join(out, file)).toString("base64"));
    const files = [...listCaseFiles(out), "cases.csv"];
    const before = snapshot(files);
    expect(await main(args)).toBe(0);
    expect([...listCaseFiles(out), "cases.csv"]).toEqual(files);
    expect(snapshot(files)).toEqual(before);
  });

  it("keeps earlier datasets in cases.csv, filters --splits, honours --limit and moves cases when the seed changes", async () => {
    const out = join(temp, "cases");
    expect(await main(["import", join(mini, "optic-mini"), "-o", out, "--splits", "train", "--quiet"])).toBe(
      0,
    );
    expect(listCaseFiles(out).every((file) => file.startsWith("train/"))).toBe(true);
    expect(stderr.join("")).toMatch(/optic-mini: train 2, val 0, test 0; 3 objects; 2 not in --splits/);

    expect(await main(["import", join(mini, "nuclei-mini"), "-o", out, "--limit", "2", "--quiet"])).toBe(0);
    const rows = parseCasesCsv(readFileSync(join(out, "cases.csv"), "utf8"));
    expect(rows.map((row) => row.case)).toEqual(["nuclei_0001", "nuclei_0002", "optic_0001", "optic_0002"]);

    // Seed 1 puts nuclei_0002 in train (seed 0: val); its old files must go.
    const moved = "2DBox_Microscopy_nuclei-mini_nuclei_0002.npz";
    expect(existsSync(join(out, "val/imgs", moved))).toBe(true);
    expect(await main(["import", join(mini, "nuclei-mini"), "-o", out, "--seed", "1", "--quiet"])).toBe(0);
    expect(existsSync(join(out, "val/imgs", moved))).toBe(false);
    expect(existsSync(join(out, "val/gts", moved))).toBe(false);
    expect(existsSync(join(out, "train/imgs", moved))).toBe(true);
    const names = listCaseFiles(out).map((file) => file.split("/").pop());
    expect(new Set(names).size * 2).toBe(names.length); // each case in exactly one split (imgs + gts)
    const reseeded = parseCasesCsv(readFileSync(join(out, "cases.csv"), "utf8"));
    for (const row of reseeded) {
      expect(existsSync(join(out, row.split, "imgs", `${row.name}.npz`)), row.name).toBe(true);
    }
  });

  it("reports every bad case on one line (file: problem), writes the good ones and exits 1 unless --skip-bad", async () => {
    const dataset = join(temp, "optic-copy");
    cpSync(join(mini, "optic-mini"), dataset, { recursive: true });
    truncateSync(join(dataset, "images/optic_0001.png"), 100);
    rmSync(join(dataset, "labels/optic_0002.png"));
    cpSync(join(mini, "nuclei-mini/labels/nuclei_0001.png"), join(dataset, "labels/optic_0003.png"));
    const out = join(temp, "cases");

    expect(await main(["import", dataset, "-o", out, "--quiet"])).toBe(1);
    const lines = stderr.join("").split("\n");
    const corruptLine = `${join(dataset, "images/optic_0001.png")}: corrupt or truncated PNG image (`;
    expect(lines.filter((line) => line.startsWith(corruptLine))).toHaveLength(1);
    expect(lines).toContain(`${join(dataset, "labels/optic_0002.png")}: file not found`);
    expect(lines).toContain(
      `${join(dataset, "labels/optic_0003.png")}: label is 48x36 but image ${join(dataset, "images/optic_0003.png")} is 40x30`,
    );
    expect(stderr.join("")).toMatch(/3 bad \(reported above\)/);
    expect(listCaseFiles(out)).toEqual([
      "test/gts/2DBox_Fundus_optic-mini_optic_0007.npz",
      "test/imgs/2DBox_Fundus_optic-mini_optic_0007.npz",
    ]);

    stderr = [];
    expect(await main(["import", dataset, "-o", out, "--quiet", "--skip-bad"])).toBe(0);
    expect(stderr.join("")).toMatch(/optic-mini: train 0, val 0, test 1; 2 objects; 3 bad/);
  });

  it("imports a Decathlon task and an nnU-Net v2 raw dataset as it imports DAFT's dataset.json (same arrays per case)", async () => {
    const source = join(mini, "hippo-mini");
    const own = JSON.parse(readFileSync(join(source, "dataset.json"), "utf8")) as {
      cases: { image: string; label: string }[];
    };
    const ids = own.cases.map((c) => c.image.split("/").pop()!.replace(".nii.gz", ""));
    // Task04-style: imagesTr/labelsTr listed in "training", labels id → name, modality {"0": "MRI"}.
    const msd = join(temp, "Task99_Hippo");
    // nnU-Net v2: channel files imagesTr/<case>_0000.nii.gz, labels name → id or region, file_ending.
    const nnunet = join(temp, "Dataset099_Hippo");
    for (const root of [msd, nnunet]) {
      for (const sub of ["imagesTr", "labelsTr"])
        cpSync(join(source, "labels"), join(root, sub), { recursive: true });
    }
    own.cases.forEach((c, i) => {
      cpSync(join(source, c.image), join(msd, "imagesTr", `${ids[i]}.nii.gz`));
      cpSync(join(source, c.image), join(nnunet, "imagesTr", `${ids[i]}_0000.nii.gz`));
      rmSync(join(nnunet, "imagesTr", c.label.split("/").pop()!));
    });
    writeFileSync(
      join(msd, "dataset.json"),
      JSON.stringify({
        name: "Hippocampus",
        modality: { "0": "MRI" },
        labels: { "0": "background", "1": "anterior", "2": "posterior" },
        tensorImageSize: "3D",
        training: ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
      }),
    );
    writeFileSync(
      join(nnunet, "dataset.json"),
      JSON.stringify({
        channel_names: { "0": "T2" },
        labels: { background: 0, anterior: 1, posterior: 2, hippocampus: [1, 2] },
        numTraining: ids.length,
        file_ending: ".nii.gz",
      }),
    );
    const outs = { own: join(temp, "own"), msd: join(temp, "msd"), nnunet: join(temp, "nnunet") };
    expect(await main(["import", source, "-o", outs.own, "--quiet"])).toBe(0);
    expect(await main(["import", msd, "-o", outs.msd, "--quiet"])).toBe(0);
    expect(await main(["import", nnunet, "-o", outs.nnunet, "--quiet"])).toBe(0);
    expect(stderr.join("")).not.toMatch(/note:|bad|error/);

    const byCase = (out: string) =>
      new Map(
        parseCasesCsv(readFileSync(join(out, "cases.csv"), "utf8")).map((row) => {
          const file = (kind: string) => readNpz(readFileSync(join(out, row.split, kind, `${row.name}.npz`)));
          return [row.case, { row, imgs: file("imgs"), gts: file("gts") }];
        }),
      );
    const reference = byCase(outs.own);
    expect([...reference.keys()].sort()).toEqual([...ids].sort());
    // The Decathlon's labels are plain ids (no "hippocampus" region); nnU-Net v2 keeps hippo-mini's region.
    for (const [out, name, withRegion] of [
      [outs.msd, "Hippocampus", false],
      [outs.nnunet, "Dataset099_Hippo", true],
    ] as const) {
      const imported = byCase(out);
      expect([...imported.keys()].sort()).toEqual([...ids].sort());
      for (const [id, entry] of imported) {
        const ref = reference.get(id)!;
        expect(entry.row).toMatchObject({ dataset: name, modality: "MR", dimension: "3" });
        expect(entry.row.name).toBe(`3DBox_MR_${name}_${id}`);
        const objects = ref.row.object_names.split(";").filter((o) => withRegion || o !== "hippocampus");
        expect(entry.row.object_names).toBe(objects.join(";"));
        expect(entry.imgs.get("imgs")).toEqual(ref.imgs.get("imgs"));
        expect(entry.imgs.get("spacing")).toEqual(ref.imgs.get("spacing"));
        if (withRegion) expect(entry.gts.get("gts")).toEqual(ref.gts.get("gts"));
      }
    }
  });

  it("imports a folder of DICOM series and DICOM-SEG files (no dataset.json): one case per SEG on its series", async () => {
    const pacs = join(temp, "pacs");
    const seriesFiles = syntheticCtSeries();
    mkdirSync(join(pacs, "study", "ct"), { recursive: true });
    for (const { name, bytes } of seriesFiles) writeFileSync(join(pacs, "study", "ct", name), bytes);
    // Two segments on the 2-slice, 2×3 series; and a SEG of a series that is not in the folder.
    const study = decodeDicomStudy(seriesFiles, "ct");
    const labels = Uint16Array.from([1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 2, 2]);
    const options = { expert: "CT", softwareVersion: "0.1.0" };
    const seg = encodeDicomSeg(study.dicom!, labels, options, "ct");
    const orphan = encodeDicomSeg(smallSeriesSource(), new Uint16Array(18).fill(1), options, "other");
    if (!seg.written || !orphan.written) throw new Error("no SEG");
    mkdirSync(join(pacs, "annotations"));
    writeFileSync(join(pacs, "annotations", "liver.seg.dcm"), seg.bytes);
    writeFileSync(join(pacs, "annotations", "orphan.dcm"), orphan.bytes);

    const out = join(temp, "cases");
    expect(await main(["import", pacs, "-o", out, "--quiet"])).toBe(1);
    expect(stderr.filter((l) => l.includes("orphan.dcm"))).toEqual([
      `${join(pacs, "annotations", "orphan.dcm")}: DICOM-SEG refers to 3 image(s), none of them in ${pacs}\n`,
    ]);
    const [row] = parseCasesCsv(readFileSync(join(out, "cases.csv"), "utf8"));
    expect(row).toMatchObject({
      name: "3DBox_CT_pacs_liver",
      dataset: "pacs",
      modality: "CT",
      dimension: "3",
      case: "liver",
      objects: "2",
      object_names: "box 1;box 2",
      depth: "2",
      height: "2",
      width: "3",
    });
    const gts = readNpz(readFileSync(join(out, row!.split, "gts", `${row!.name}.npz`)));
    expect([...(gts.get("gts")!.data as Uint16Array)]).toEqual([...labels]);
    expect([...(gts.get("spacing")!.data as Float64Array)]).toEqual([2.5, 0.8, 0.7]);
    const imgs = readNpz(readFileSync(join(out, row!.split, "imgs", `${row!.name}.npz`)));
    expect(imgs.get("imgs")!.shape).toEqual([2, 2, 3]);
    expect([...(imgs.get("boxes")!.data as Int32Array)]).toEqual([0, 0, 0, 1, 0, 1, 1, 1, 1, 2, 1, 1]);
    // Without --quiet the header scan shows its progress (files read of all).
    stderr = [];
    await main(["import", pacs, "-o", join(temp, "cases-again")]);
    expect(stderr.join("")).toMatch(/pacs: reading DICOM headers.*4\/4/);
  });

  it("reports an unusable dataset.json and bad options", async () => {
    const broken = join(temp, "broken");
    cpSync(join(mini, "optic-mini"), broken, { recursive: true });
    writeFileSync(join(broken, "dataset.json"), JSON.stringify({ name: "x", modality: "CT", dimension: 5 }));
    expect(await main(["import", broken, "-o", join(temp, "out"), "--quiet"])).toBe(1);
    expect(stderr.join("")).toContain(`${join(broken, "dataset.json")}: dimension: `);
    expect(await main(["import", join(temp, "missing"), "-o", join(temp, "out")])).toBe(1);
    expect(stderr.join("")).toContain(`${join(temp, "missing")}: not a dataset folder`);
    const noJson = join(temp, "no-json");
    cpSync(join(mini, "optic-mini/images"), join(noJson, "images"), { recursive: true });
    expect(await main(["import", noJson, "-o", join(temp, "out")])).toBe(1);
    expect(stderr.join("")).toContain(`${join(noJson, "dataset.json")}: file not found`);

    expect(await main(["import", join(mini, "optic-mini")])).toBe(2);
    expect(await main(["import", join(mini, "optic-mini"), "-o", temp, "--splits", "train,dev"])).toBe(2);
    expect(await main(["import", join(mini, "optic-mini"), "-o", temp, "--limit", "0"])).toBe(2);
    expect(await main(["export"])).toBe(2);
    expect(await main(["import", "--help"])).toBe(0);
  });
});
