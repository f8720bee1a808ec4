/**
 * `daft data import <dataset-dir>... -o <cases-dir>`: datasets with DAFT's dataset.json (labels and cases), Medical
 * Segmentation Decathlon tasks or nnU-Net v2 raw datasets (converted by the core's foreignDatasetJson), or folders
 * of DICOM series with DICOM-SEG files (dicomSegDataset.ts) → challenge cases
 * <cases-dir>/<split>/{imgs,gts}/<name>.npz plus <cases-dir>/cases.csv.
 * One case at a time (memory); every bad file is reported on one line and counted.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, stat, unlink } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { readFileBytes } from "../io/fileBytes.js";
import {
  DaftInputError,
  SPLIT_NAMES,
  caseIdentity,
  formatCasesCsv,
  importCase,
  importDicomSegCase,
  mergeCaseRows,
  parseCasesCsv,
  checkDatasetJson,
  decodeStudyFileWithoutCodecs,
  inputFormatOf,
  normaliseDatasetJson,
  parseSplitList,
  writeNpz,
  type CaseEntry,
  type CaseRow,
  type DatasetSpec,
  type ImportedCase,
  type SplitName,
} from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { fileErrorLine, parseCommandLine, takeSubcommand } from "./common.js";
import { Progress, formatSeconds } from "./progress.js";
import { scanDicomSegDataset, type DicomSegDataset } from "./dicomSegDataset.js";

export const HELP = `usage: daft data import <dataset-dir>... -o <cases-dir> [options]

Turns datasets into challenge cases — a folder with DAFT's dataset.json (name, modality, dimension, labels,
cases), a Medical Segmentation Decathlon task (dataset.json with "training") or an nnU-Net v2 raw dataset
(dataset.json with "channel_names" and "file_ending"; imagesTr/<case>_0000<ending>, labelsTr/<case><ending>), or a
folder of DICOM series with DICOM-SEG files and no dataset.json (one 3D case per SEG, on the series it refers to):
<cases-dir>/<split>/imgs/<name>.npz (imgs uint8, boxes, spacing for 3D),
<cases-dir>/<split>/gts/<name>.npz (gts uint16, spacing for 3D) and <cases-dir>/cases.csv.
Splits are hash-based (stable when cases are added); the test split does not depend on the seed.

options:
  -o, --out <dir>      output folder (created)
  --seed <n>           seed of the train/val split (default 0)
  --splits <list>      only write these splits, e.g. train,val (default train,val,test)
  --limit <n>          import at most the first n cases of each dataset
  --modality <name>    the foundation modality (CT, MR, US, …) of MSD / nnU-Net datasets whose channel name
                       does not say it (e.g. nnU-Net's "noNorm"); overrides the channel name
  --skip-bad           exit 0 even when some cases were bad (they are still reported)
  --quiet              no progress output
  -h, --help           this help`;

interface ImportOptions {
  outDir: string;
  seed: number;
  splits: SplitName[];
  limit: number;
  quiet: boolean;
  modality?: string | undefined;
}

/** Per dataset: cases written per split, cases the split assigns to each split, left out by --splits, bad cases. */
interface DatasetSummary {
  name: string;
  written: Record<SplitName, number>;
  assigned: Record<SplitName, number>;
  objects: number;
  filtered: number;
  bad: number;
}

export async function main(args: string[]): Promise<number> {
  const subcommand = takeSubcommand("data", args, ["import"], HELP);
  if (typeof subcommand === "number") return subcommand;
  const parsed = parseCommandLine(
    "daft data import",
    {
      args: subcommand.rest,
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o" },
        seed: { type: "string", default: "0" },
        splits: { type: "string", default: SPLIT_NAMES.join(",") },
        limit: { type: "string" },
        modality: { type: "string" },
        "skip-bad": { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    HELP,
    { helpOnError: true },
  );
  if (typeof parsed === "number") return parsed;
  const { values: o, positionals } = parsed;
  if (positionals.length === 0 || !o.out) {
    process.stderr.write(`daft data import: give at least one dataset folder and -o <cases-dir>\n${HELP}\n`);
    return 2;
  }
  const seed = Number(o.seed);
  const limit = o.limit === undefined ? Infinity : Number(o.limit);
  let splits: SplitName[];
  try {
    splits = parseSplitList(o.splits);
    if (splits.length === 0) throw new Error("--splits is empty");
  } catch (error) {
    process.stderr.write(`daft data import: ${(error as Error).message}\n`);
    return 2;
  }
  if (
    !Number.isInteger(seed) ||
    seed < 0 ||
    !(limit === Infinity || (Number.isInteger(limit) && limit > 0))
  ) {
    process.stderr.write(`daft data import: --seed must be an integer >= 0 and --limit a positive integer\n`);
    return 2;
  }

  const options: ImportOptions = {
    outDir: resolve(o.out),
    seed,
    splits,
    limit,
    quiet: o.quiet,
    modality: o.modality,
  };
  await mkdir(options.outDir, { recursive: true });
  const started = Date.now();
  const rows: CaseRow[] = [];
  const summaries: DatasetSummary[] = [];
  let bad = 0;
  for (const datasetDir of positionals) {
    const summary = await importDataset(resolve(datasetDir), datasetDir, options, rows);
    if (summary) summaries.push(summary);
    bad += summary ? summary.bad : 1;
  }

  const csvPath = join(options.outDir, "cases.csv");
  const existing = await readExistingRows(csvPath);
  const stillOnDisk = new Set<string>();
  for (const row of existing) if (await caseFilesExist(options.outDir, row)) stillOnDisk.add(row.name);
  const merged = mergeCaseRows(existing, rows, (row) => stillOnDisk.has(row.name));
  await writeFileAtomic(csvPath, formatCasesCsv(merged));

  for (const s of summaries) {
    const counts = SPLIT_NAMES.map((split) => `${split} ${s.written[split]}`).join(", ");
    const extra = [s.filtered > 0 ? `${s.filtered} not in --splits` : "", s.bad > 0 ? `${s.bad} bad` : ""]
      .filter(Boolean)
      .join(", ");
    process.stderr.write(`${s.name}: ${counts}; ${s.objects} objects${extra ? `; ${extra}` : ""}\n`);
    const unheld = unheldSplits(s.assigned);
    if (unheld) process.stderr.write(`${s.name}: warning: ${unheld}\n`);
  }
  const total = summaries.reduce(
    (sum, s) => sum + SPLIT_NAMES.reduce((n, split) => n + s.written[split], 0),
    0,
  );
  process.stderr.write(
    `daft data import: ${total} cases written to ${options.outDir} in ${formatSeconds((Date.now() - started) / 1000)}` +
      `${bad > 0 ? `; ${bad} bad (reported above)` : ""}\n`,
  );
  return bad > 0 && !o["skip-bad"] ? 1 : 0;
}

/**
 * The hash split gives a small dataset no validation or test case now and then (BraTS here: 6 cases, all in
 * train). Nothing can then choose an expert for it or measure one on it: say so rather than let a table's
 * modality row quietly stand for a dataset it never saw.
 */
export function unheldSplits(assigned: Record<SplitName, number>): string | undefined {
  const total = SPLIT_NAMES.reduce((n, split) => n + assigned[split], 0);
  const missing = (["val", "test"] as const).filter((split) => assigned[split] === 0);
  if (total === 0 || missing.length === 0) return undefined;
  const consequences = missing.map((split) =>
    split === "val" ? "validation cannot select an expert for it" : "the test split does not score it",
  );
  return (
    `no case in ${missing.join(" or ")} (${total} case${total === 1 ? "" : "s"}, hash split): ` +
    consequences.join(" and ")
  );
}

/** A dataset ready to import: its spec, and how one of its cases is read and converted. */
interface DatasetSource {
  dataset: DatasetSpec;
  entries: CaseEntry[];
  /** The name a failing case is reported under. */
  shownName(entry: CaseEntry): string;
  load(entry: CaseEntry): Promise<ImportedCase>;
}

/** Imports one dataset folder; undefined (after reporting) when its dataset.json is unusable. */
async function importDataset(
  datasetDir: string,
  shownDir: string,
  options: ImportOptions,
  rows: CaseRow[],
): Promise<DatasetSummary | undefined> {
  const jsonPath = join(shownDir, "dataset.json");
  let source: DatasetSource;
  const unmatched: { file: string; problem: string }[] = [];
  try {
    const isFolder = await stat(datasetDir).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (!isFolder)
      throw new DaftInputError("not a dataset folder (expected a folder holding dataset.json)", shownDir);
    const hasJson = await stat(join(datasetDir, "dataset.json")).then(
      () => true,
      () => false,
    );
    const dicom = hasJson
      ? undefined
      : await scanDicomSegDataset(
          datasetDir,
          shownDir,
          options.modality,
          (files) =>
            new Progress(
              files,
              `${basename(datasetDir)}: reading DICOM headers`,
              process.stderr,
              !options.quiet,
            ),
        );
    if (dicom) {
      unmatched.push(...dicom.unmatched);
      source = dicomSegSource(dicom, options);
    } else {
      source = jsonSource(
        await readDatasetJson(datasetDir, shownDir, jsonPath, options),
        datasetDir,
        shownDir,
        options,
      );
    }
  } catch (error) {
    report(error, jsonPath);
    return undefined;
  }
  const { dataset } = source;
  const entries = source.entries.slice(0, options.limit);
  const summary: DatasetSummary = {
    name: dataset.name,
    written: { train: 0, val: 0, test: 0 },
    assigned: { train: 0, val: 0, test: 0 },
    objects: 0,
    filtered: 0,
    bad: unmatched.length,
  };
  for (const { file, problem } of unmatched) report(new DaftInputError(problem, file), file);
  const progress = new Progress(entries.length, dataset.name, process.stderr, !options.quiet);
  for (const entry of entries) {
    const identity = caseIdentity(dataset, entry, options.seed);
    summary.assigned[identity.split]++;
    if (!options.splits.includes(identity.split)) {
      summary.filtered++;
      progress.tick(identity.caseId);
      continue;
    }
    try {
      const imported = await source.load(entry);
      await writeCase(options.outDir, imported);
      rows.push(caseRow(dataset, imported));
      summary.written[imported.split]++;
      summary.objects += imported.objectNames.length;
    } catch (error) {
      summary.bad++;
      report(error, source.shownName(entry));
    }
    progress.tick(identity.caseId);
  }
  return summary;
}

/** dataset.json (DAFT's, or a Decathlon / nnU-Net v2 one converted), checked. */
async function readDatasetJson(
  datasetDir: string,
  shownDir: string,
  jsonPath: string,
  options: ImportOptions,
): Promise<DatasetSpec> {
  const text = new TextDecoder().decode(await readInput(join(datasetDir, "dataset.json"), jsonPath));
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DaftInputError(`invalid JSON (${(error as Error).message})`, jsonPath);
  }
  const normalised = normaliseDatasetJson(raw, datasetContext(datasetDir, shownDir, options), jsonPath);
  for (const note of normalised.notes) process.stderr.write(`${jsonPath}: note: ${note}\n`);
  return checkDatasetJson(normalised.json, jsonPath);
}

/** Cases listed in dataset.json: an image file and a label file each. */
function jsonSource(
  dataset: DatasetSpec,
  datasetDir: string,
  shownDir: string,
  options: ImportOptions,
): DatasetSource {
  return {
    dataset,
    entries: dataset.cases,
    shownName: (entry) => join(shownDir, entry.image),
    async load(entry) {
      const imageName = join(shownDir, entry.image);
      const labelName = join(shownDir, entry.label);
      const [imageBytes, labelBytes] = await Promise.all([
        readInput(join(datasetDir, entry.image), imageName),
        readInput(join(datasetDir, entry.label), labelName),
      ]);
      return importCase(dataset, entry, { imageBytes, labelBytes, imageName, labelName }, options.seed);
    },
  };
}

/** Cases of a DICOM-SEG folder: a series and a SEG each (dicomSegDataset.ts). */
function dicomSegSource(dicom: DicomSegDataset, options: ImportOptions): DatasetSource {
  const byId = new Map(dicom.cases.map((c) => [c.entry.id!, c]));
  return {
    dataset: dicom.dataset,
    entries: dicom.cases.map((c) => c.entry),
    shownName: (entry) => byId.get(entry.id!)!.seriesName,
    async load(entry) {
      const c = byId.get(entry.id!)!;
      const files = await Promise.all(
        c.seriesFiles.map(async (path) => ({ name: path, bytes: await readInput(path, path) })),
      );
      const seg = { name: c.segFile, bytes: await readInput(c.segFile, c.segFile) };
      return importDicomSegCase(dicom.dataset, entry, { name: c.seriesName, files }, seg, options.seed);
    },
  };
}

/** What the MSD / nnU-Net v2 conversion needs from the dataset folder. */
function datasetContext(datasetDir: string, shownDir: string, options: ImportOptions) {
  return {
    folderName: basename(datasetDir),
    modality: options.modality,
    listFiles(subfolder: string): string[] {
      try {
        return readdirSync(join(datasetDir, subfolder));
      } catch {
        return [];
      }
    },
    probeDimension(imagePath: string): 2 | 3 {
      const shown = join(shownDir, imagePath);
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(join(datasetDir, imagePath));
      } catch (error) {
        throw new DaftInputError(
          `cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
          shown,
        );
      }
      // nnU-Net and MSD images that are not pictures are NIfTI, NRRD or MetaImage.
      const study = decodeStudyFileWithoutCodecs(bytes, shown);
      if (study) return study.dimension;
      throw new DaftInputError(
        `is ${inputFormatOf(bytes, shown)}; dataset images here must be NIfTI, NRRD or MetaImage`,
        shown,
      );
    },
  };
}

async function readInput(path: string, shownName: string): Promise<Uint8Array> {
  try {
    return await readFileBytes(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DaftInputError(
      code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(error)})`,
      shownName,
    );
  }
}

/** Writes imgs and gts atomically, and removes copies of the case left in other splits by an earlier run. */
async function writeCase(outDir: string, imported: ImportedCase): Promise<void> {
  for (const kind of ["imgs", "gts"] as const) {
    const folder = join(outDir, imported.split, kind);
    await mkdir(folder, { recursive: true });
    const arrays = kind === "imgs" ? imported.imgsNpz : imported.gtsNpz;
    await writeFileAtomic(join(folder, `${imported.name}.npz`), writeNpz(arrays, { compress: true }));
  }
  for (const split of SPLIT_NAMES) {
    if (split === imported.split) continue;
    for (const kind of ["imgs", "gts"]) {
      await unlink(join(outDir, split, kind, `${imported.name}.npz`)).catch(() => undefined);
    }
  }
}

function caseRow(dataset: DatasetSpec, imported: ImportedCase): CaseRow {
  return {
    name: imported.name,
    dataset: dataset.name,
    modality: dataset.modality,
    dimension: String(dataset.dimension),
    case: imported.caseId,
    split: imported.split,
    objects: String(imported.objectNames.length),
    object_names: imported.objectNames.join(";"),
    height: String(imported.height),
    width: String(imported.width),
    depth: imported.depth === undefined ? "" : String(imported.depth),
  };
}

async function readExistingRows(csvPath: string): Promise<CaseRow[]> {
  let text: string;
  try {
    text = await readFile(csvPath, "utf8");
  } catch {
    return [];
  }
  try {
    return parseCasesCsv(text);
  } catch (error) {
    process.stderr.write(`${csvPath}: ${(error as Error).message}; rewriting it from this run only\n`);
    return [];
  }
}

async function caseFilesExist(outDir: string, row: CaseRow): Promise<boolean> {
  try {
    await stat(join(outDir, row.split, "imgs", `${row.name}.npz`));
    return true;
  } catch {
    return false;
  }
}

function report(error: unknown, fallbackSource: string): void {
  process.stderr.write(`${fileErrorLine(error, fallbackSource)}\n`);
}
