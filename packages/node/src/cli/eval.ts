import { mkdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { readFileBytes } from "../io/fileBytes.js";
import {
  DaftInputError,
  evaluateCase,
  formatObjectSizeMarkdown,
  formatSlicePositionMarkdown,
  formatSummaryMarkdown,
  modalityFromCaseName,
  openNpz,
  scoreStripPlotSvg,
  summarizeByObjectSize,
  summarizeBySlicePosition,
  summarizeScores,
  type CaseMetrics,
  type NdArray,
} from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { folderEntries } from "../io/folderEntries.js";
import { parseCommandLine } from "./common.js";
import { Progress } from "./progress.js";

export const HELP = `usage: daft eval --pred <dir> --gt <dir> [options]

Scores predictions exactly like the CVPR24 "Segment Anything in Medical Images on Laptop" challenge:
DSC and NSD (normalised surface Dice) for labels 1..max(gt); NSD only when the case DSC > 0.2.
Predictions are <name>.npz with key 'segs'; ground truth <name>.npz with 'gts' (+ 'spacing' for 3D).

options:
  --pred <dir>           folder of predicted .npz files
  --gt <dir>             folder of ground-truth .npz files
  -o, --out <dir>        report folder (default: the pred folder): metrics.csv (per label, with
                         voxel counts), cases.csv, summary.md (+ scores by object size and, for
                         3D, by slice position within each object), summary.json, summary.svg
                         (a picture: every case's DSC and NSD by modality, with the means)
  --tolerance-mm <mm>    NSD tolerance for 3D cases (default 2)
  --tolerance-px <px>    NSD tolerance for 2D cases (default 2)
  --nsd-2d <mode>        contour: surfels of the 2D contour, tolerance 2 px (default; the box-as-mask
                         baseline scores ~0.28 NSD, the figure the team plans against);
                         slab: 2D masks as (H, W, 1) volumes, as the challenge's script scored them
                         (top/bottom faces count as surface, so NSD follows area overlap)
  --only-predicted       score only the ground-truth cases that have a prediction (a subset run, e.g.
                         one modality); by default a missing prediction scores as an empty mask, as
                         the challenge scores it
  --quiet                no progress output
  -h, --help             this help`;

/** Unmatched files named on the terminal up to this many; summary.json lists them all. */
const WARNINGS_NAMED = 5;
/** Files named per note in summary.md; summary.json lists them all. */
const REPORT_NAMED = 20;

interface CaseResult {
  name: string;
  modality: string;
  /** 2 or 3. */
  dims: number;
  metrics: CaseMetrics;
  predictionMissing: boolean;
}

interface Options {
  predDir: string;
  gtDir: string;
  outDir: string;
  toleranceMm: number;
  tolerancePx: number;
  surface2d: "slab" | "contour";
  onlyPredicted: boolean;
  quiet: boolean;
}

export async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "number") return options;
  const { predDir, gtDir, outDir } = options;

  let gtNames: string[];
  let predNames: string[];
  try {
    [gtNames, predNames] = await Promise.all([listNpz(gtDir), listNpz(predDir)]);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const predSet = new Set(predNames);
  const gtSet = new Set(gtNames);
  const unpredicted = gtNames.filter((n) => !predSet.has(n));
  const ignored = predNames.filter((n) => !gtSet.has(n));
  if (gtNames.length === 0) {
    process.stderr.write(`${gtDir}: no .npz ground-truth files\n`);
    return 1;
  }
  // --only-predicted leaves the unpredicted cases out; otherwise they are scored as empty masks.
  const missing = options.onlyPredicted ? [] : unpredicted;
  const leftOut = options.onlyPredicted ? unpredicted : [];
  const scored = options.onlyPredicted ? gtNames.filter((n) => predSet.has(n)) : gtNames;
  if (scored.length === 0) {
    process.stderr.write(`${predDir}: no prediction matches a ground-truth file in ${gtDir}\n`);
    return 1;
  }
  warnEach(ignored, (n) => `${join(predDir, n)}: warning: no ground truth with this name, ignored`);
  warnEach(missing, (n) => `${join(gtDir, n)}: warning: no prediction, scored as an empty prediction`);

  const results: CaseResult[] = [];
  const failed: { file: string; error: string }[] = [];
  const progress = new Progress(scored.length, "eval", process.stderr, !options.quiet && scored.length > 1);
  for (const name of scored) {
    try {
      results.push(await scoreCase(name, options, predSet.has(name)));
    } catch (e) {
      const problem = e instanceof DaftInputError ? e : new DaftInputError((e as Error).message);
      const file = problem.source ?? join(gtDir, name);
      process.stderr.write(`${problem.withSource(file).oneLine()}\n`);
      failed.push({ file, error: problem.message });
    }
    progress.tick(name);
  }

  const caseScores = results.map((r) => ({ case: r.name, modality: r.modality, ...r.metrics }));
  const summary = summarizeScores(caseScores);
  const table = formatSummaryMarkdown(summary);
  const plot = scoreStripPlotSvg(
    caseScores,
    summary,
    `${basename(resolve(predDir))}: ${results.length} case(s)`,
  );
  const bySize = summarizeByObjectSize(
    results.flatMap((r) => r.metrics.labels.map((m) => ({ modality: r.modality, dims: r.dims, ...m }))),
  );
  const bySlicePosition = summarizeBySlicePosition(
    results.flatMap((r) =>
      r.metrics.labels.flatMap((m) =>
        m.slicePosition ? [{ modality: r.modality, counts: m.slicePosition }] : [],
      ),
    ),
  );
  // What was not scored as given: summary.json names every file, summary.md the first REPORT_NAMED (a subset
  // scored with --only-predicted leaves hundreds out) and the terminal the first few.
  const noteGroups: [string, readonly string[]][] = [
    ["case(s) without prediction, scored as empty", missing],
    ["ground-truth case(s) without prediction left out (--only-predicted)", leftOut],
    ["prediction(s) without ground truth, ignored", ignored],
    ["case(s) could not be scored", failed.map((f) => f.file)],
  ];
  const noteLines = (named: number) =>
    noteGroups
      .filter(([, files]) => files.length > 0)
      .map(([what, files]) => {
        const more = files.length > named ? `, … ${files.length - named} more in summary.json` : "";
        return `- ${files.length} ${what}: ${files.slice(0, named).join(", ")}${more}`;
      });
  const notes = noteLines(REPORT_NAMED);
  const markdown = [
    "# Segmentation metrics (CVPR24 challenge protocol)",
    "",
    `- predictions: ${resolve(predDir)}`,
    `- ground truth: ${resolve(gtDir)}`,
    `- NSD tolerance: ${options.toleranceMm} mm (3D), ${options.tolerancePx} px (2D, ${options.surface2d}); NSD only when case DSC > 0.2`,
    ...notes,
    "",
    table,
    "![DSC and NSD per case, by modality](summary.svg)",
    "",
    "## By object size",
    "",
    "Ground-truth objects binned by the side of the square (2D) or cube (3D) of their area / volume; a median",
    "volume ratio below 1 means the model under-segments objects of that size, above 1 that it over-segments.",
    "",
    formatObjectSizeMarkdown(bySize),
    ...(bySlicePosition.length === 0
      ? []
      : [
          "## 3D: by slice position within each object",
          "",
          "Voxels summed over the objects of each modality by where the slice lies in the object's z extent (first to",
          "last slice with ground truth): near its ends, between, in the middle, or on slices the object does not",
          "reach. Volumes are segmented from the box's middle slice outwards, so errors that grow along the walk",
          "show at the ends.",
          "",
          formatSlicePositionMarkdown(bySlicePosition),
        ]),
  ].join("\n");
  const json = {
    predictions: resolve(predDir),
    groundTruth: resolve(gtDir),
    toleranceMm: options.toleranceMm,
    tolerancePx: options.tolerancePx,
    nsd2d: options.surface2d,
    summary,
    byObjectSize: bySize,
    bySlicePosition,
    cases: results.map((r) => ({
      case: r.name,
      modality: r.modality,
      dsc: numberOrNull(r.metrics.dsc),
      nsd: numberOrNull(r.metrics.nsd),
      nsdComputed: r.metrics.nsdComputed,
      predictionMissing: r.predictionMissing,
      labels: r.metrics.labels.map(({ slicePosition: _, ...m }) => ({
        ...m,
        dsc: numberOrNull(m.dsc),
        nsd: numberOrNull(m.nsd),
      })),
    })),
    missingPredictions: missing,
    leftOutWithoutPrediction: leftOut,
    ignoredPredictions: ignored,
    failed,
  };
  try {
    await mkdir(outDir, { recursive: true });
    await writeFileAtomic(join(outDir, "metrics.csv"), metricsCsv(results));
    await writeFileAtomic(join(outDir, "cases.csv"), casesCsv(results));
    await writeFileAtomic(join(outDir, "summary.svg"), plot);
    await writeFileAtomic(join(outDir, "summary.md"), markdown);
    await writeFileAtomic(join(outDir, "summary.json"), `${JSON.stringify(json, null, 2)}\n`);
  } catch (e) {
    process.stderr.write(`${outDir}: cannot write the report: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `${table}${notes.length > 0 ? `\n${noteLines(WARNINGS_NAMED).join("\n")}\n` : ""}\nreport: ${resolve(outDir)}\n`,
  );
  return failed.length > 0 ? 1 : 0;
}

function parseOptions(args: string[]): Options | number {
  const parsed = parseCommandLine(
    "daft eval",
    {
      args,
      options: {
        pred: { type: "string" },
        gt: { type: "string" },
        out: { type: "string", short: "o" },
        "tolerance-mm": { type: "string", default: "2" },
        "tolerance-px": { type: "string", default: "2" },
        "nsd-2d": { type: "string", default: "contour" },
        "only-predicted": { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    HELP,
    { helpOnError: true },
  );
  if (typeof parsed === "number") return parsed;
  const o = parsed.values;
  if (!o.pred || !o.gt) {
    process.stderr.write(`daft eval: give --pred <dir> and --gt <dir>\n${HELP}\n`);
    return 2;
  }
  const toleranceMm = Number(o["tolerance-mm"]);
  const tolerancePx = Number(o["tolerance-px"]);
  if (!(toleranceMm >= 0) || !(tolerancePx >= 0)) {
    process.stderr.write(`daft eval: --tolerance-mm and --tolerance-px must be numbers ≥ 0\n`);
    return 2;
  }
  const mode = o["nsd-2d"];
  if (mode !== "slab" && mode !== "contour") {
    process.stderr.write(`daft eval: --nsd-2d must be slab or contour, got "${mode}"\n`);
    return 2;
  }
  return {
    predDir: o.pred,
    gtDir: o.gt,
    outDir: o.out ?? o.pred,
    toleranceMm,
    tolerancePx,
    surface2d: mode,
    onlyPredicted: o["only-predicted"] ?? false,
    quiet: o.quiet ?? false,
  };
}

/** One warning line per file, the first WARNINGS_NAMED of them, then one line with how many more. */
function warnEach(names: readonly string[], line: (name: string) => string): void {
  for (const n of names.slice(0, WARNINGS_NAMED)) process.stderr.write(`${line(n)}\n`);
  if (names.length > WARNINGS_NAMED)
    process.stderr.write(`… and ${names.length - WARNINGS_NAMED} more like it (all named in summary.json)\n`);
}

async function listNpz(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await folderEntries(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `${dir}: ${code === "ENOENT" ? "no such folder" : code === "ENOTDIR" ? "not a folder" : (e as Error).message}`,
    );
  }
  return entries
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith(".npz"))
    .map((e) => e.name)
    .sort();
}

async function scoreCase(name: string, options: Options, hasPrediction: boolean): Promise<CaseResult> {
  const gtFile = join(options.gtDir, name);
  const gtArchive = openNpz(await readFileBytes(gtFile), gtFile);
  if (!gtArchive.has("gts"))
    throw new DaftInputError(`no 'gts' array (found: ${gtArchive.keys.join(", ")})`, gtFile);
  const gts = gtArchive.read("gts");
  const dims = gts.shape.length;
  if (dims !== 2 && dims !== 3) {
    throw new DaftInputError(
      `'gts' must be 2D (H, W) or 3D (D, H, W), got shape (${gts.shape.join(", ")})`,
      gtFile,
    );
  }
  let spacing: number[] | undefined;
  if (dims === 3) {
    if (!gtArchive.has("spacing")) throw new DaftInputError("3D 'gts' needs a 'spacing' array", gtFile);
    spacing = Array.from(asNumbers(gtArchive.read("spacing")));
    if (spacing.length !== 3 || spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
      throw new DaftInputError(`'spacing' must be 3 positive numbers, got (${spacing.join(", ")})`, gtFile);
    }
  }
  let segs: ArrayLike<number>;
  if (hasPrediction) {
    const predFile = join(options.predDir, name);
    const predArchive = openNpz(await readFileBytes(predFile), predFile);
    if (!predArchive.has("segs")) {
      throw new DaftInputError(`no 'segs' array (found: ${predArchive.keys.join(", ")})`, predFile);
    }
    const pred = predArchive.read("segs");
    if (pred.shape.join(",") !== gts.shape.join(",")) {
      throw new DaftInputError(
        `'segs' shape (${pred.shape.join(", ")}) does not match the ground truth's (${gts.shape.join(", ")})`,
        predFile,
      );
    }
    segs = asNumbers(pred);
  } else {
    segs = new Uint8Array(gts.data.length);
  }
  const metrics = evaluateCase({
    gt: asNumbers(gts),
    pred: segs,
    shape: gts.shape,
    spacing,
    tolerance: dims === 3 ? options.toleranceMm : options.tolerancePx,
    surface2d: options.surface2d,
  });
  return { name, modality: modalityFromCaseName(name), dims, metrics, predictionMissing: !hasPrediction };
}

/** Label maps and spacings as plain numbers (64-bit integer arrays are converted). */
function asNumbers(array: NdArray): ArrayLike<number> {
  const data = array.data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    return Float64Array.from(data, (v) => Number(v));
  return data;
}

function numberOrNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

function formatValue(x: number): string {
  return Number.isNaN(x) ? "NaN" : String(Number(x.toFixed(6)));
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per (case, label), with both voxel counts (volume ratios, size analyses). */
function metricsCsv(results: CaseResult[]): string {
  const rows = ["case,modality,label,dsc,nsd,gt_voxels,pred_voxels"];
  for (const r of results) {
    for (const m of r.metrics.labels) {
      rows.push(
        [
          csvField(r.name),
          csvField(r.modality),
          m.label,
          formatValue(m.dsc),
          formatValue(m.nsd),
          m.gtVoxels,
          m.predVoxels,
        ].join(","),
      );
    }
  }
  return `${rows.join("\n")}\n`;
}

/** One row per case: the challenge's case-level DSC and NSD. */
function casesCsv(results: CaseResult[]): string {
  const rows = ["case,modality,labels,dsc,nsd,nsd_computed,prediction_missing"];
  for (const r of results) {
    const m = r.metrics;
    rows.push(
      [
        csvField(r.name),
        csvField(r.modality),
        m.labels.length,
        formatValue(m.dsc),
        formatValue(m.nsd),
        m.nsdComputed,
        r.predictionMissing,
      ].join(","),
    );
  }
  return `${rows.join("\n")}\n`;
}
