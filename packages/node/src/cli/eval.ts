import { mkdir, readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import {
  checkSameGrid,
  confidenceTriage,
  DaftInputError,
  evaluateCase,
  formatConfidenceTriageMarkdown,
  formatObjectSizeMarkdown,
  formatSlicePositionMarkdown,
  bySourceIsInformative,
  formatBySourceMarkdown,
  summarizeBySource,
  MAX_CLASS_LABELS,
  formatSummaryMarkdown,
  modalityFromCaseName,
  scoreStripPlotSvg,
  summarizeByObjectSize,
  summarizeBySlicePosition,
  summarizeScores,
  type CaseMetrics,
  type ConfidenceTriageRow,
} from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { parseCommandLine } from "./common.js";
import { openEvalInputs, type CaseReader, type EvalInputs } from "./evalCaseFiles.js";
import { joinObjectScores, readObjectsCsv, type ObjectConfidence } from "./evalObjects.js";
import { displayImageOfStudy, imagesFolderFor, worstCases, writeCasePictures } from "./evalPictures.js";
import { Progress } from "./progress.js";

export const HELP = `usage: daft eval --pred <dir> --gt <dir> [options]

Scores predictions exactly like the CVPR24 "Segment Anything in Medical Images on Laptop" challenge:
DSC and NSD (normalised surface Dice) for labels 1..max(gt); NSD only when the case DSC > 0.2.
Predictions are <name>.npz with key 'segs'; ground truth <name>.npz with 'gts' (+ 'spacing' for 3D).
Clinical label maps score too — NIfTI (.nii, .nii.gz), NRRD, MetaImage (.mha) or PNG, as daft segment writes
them — with the voxel size from the ground truth's header; a prediction pairs with the ground truth of the same
name without its suffix (and without nnU-Net's channel suffix: ct_0000.nii.gz pairs with ct.nii.gz), and must lie
on the same voxel grid (shape and, when both are placed in space, affine).
DICOM Segmentations (DICOM-SEG: <name>.seg.dcm, or any DICOM file of SOP Class Segmentation) score in either
folder with --dicom: each is read onto the DICOM series its frames refer to, found anywhere below the --dicom
folder, as the label map daft segment would write for that series (label = segment number, the series' grid and
voxel size). A SEG pairs by name like the other files (ct.seg.dcm, ct.nii.gz and ct_0000.nii.gz pair); a pred SEG
and a gt SEG named differently pair when they are on the same series (and each is its folder's only unpaired SEG
on it).

options:
  --pred <dir>           folder of predictions (.npz, .nii[.gz], .nrrd, .mha, .png, DICOM-SEG)
  --gt <dir>             folder of ground truth (the same formats)
  --dicom <dir>          folder (searched at any depth) holding the DICOM series the DICOM-SEGs were made on
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
  --pictures <n|all>     draw the n cases with the lowest DSC (default 12; 0: none) into
                         <report>/pictures/<case>.png and list them in summary.md: agreement green,
                         missed ground truth blue, extra prediction red, the ground truth's outline
                         yellow; 3D cases as the slices where their labels go most wrong
  --images <dir>         the images to draw on, paired by name (ct_0000.nii.gz with ct.nii.gz);
                         default: the imgs/ folder beside a gts/ folder (the challenge layout); a
                         DICOM-SEG case is drawn on its series
  --objects <file>       daft segment's objects.csv (default: <pred>/objects.csv when present): adds to
                         summary.md how well each mask's confidence ranks the masks by DSC, per modality,
                         and how many failed masks (DSC < 0.5) the least confident 10 % hold
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
  /** The key pairing its files (caseKeyOf). */
  key: string;
}

interface Options {
  predDir: string;
  gtDir: string;
  /** Where the series of the DICOM-SEGs are (--dicom). */
  dicomDir?: string;
  outDir: string;
  toleranceMm: number;
  tolerancePx: number;
  surface2d: "slab" | "contour";
  onlyPredicted: boolean;
  quiet: boolean;
  /** How many of the worst cases to draw (--pictures). */
  pictures: number;
  /** --images */
  imagesDir?: string;
  /** --objects: daft segment's objects.csv (default: the one in --pred, when there). */
  objectsFile?: string;
}

export async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "number") return options;
  const { predDir, gtDir, outDir } = options;

  let inputs: EvalInputs;
  try {
    inputs = await openEvalInputs(options);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const gtFiles = inputs.gt.byKey;
  const predFiles = inputs.pred.byKey;
  const gtKeys = [...gtFiles.keys()];
  const unpredicted = gtKeys.filter((k) => !predFiles.has(k)).map((k) => gtFiles.get(k)!);
  const ignored = [...predFiles.keys()].filter((k) => !gtFiles.has(k)).map((k) => predFiles.get(k)!);
  if (gtKeys.length === 0) {
    process.stderr.write(`${gtDir}: no ground-truth files (.npz, .nii[.gz], .nrrd, .mha, .png, DICOM-SEG)\n`);
    return 1;
  }
  // --only-predicted leaves the unpredicted cases out; otherwise they are scored as empty masks.
  const missing = options.onlyPredicted ? [] : unpredicted;
  const leftOut = options.onlyPredicted ? unpredicted : [];
  const scored = options.onlyPredicted ? gtKeys.filter((k) => predFiles.has(k)) : gtKeys;
  if (scored.length === 0) {
    process.stderr.write(`${predDir}: no prediction matches a ground-truth file in ${gtDir}\n`);
    return 1;
  }
  warnEach(ignored, (n) => `${join(predDir, n)}: warning: no ground truth with this name, ignored`);
  warnEach(missing, (n) => `${join(gtDir, n)}: warning: no prediction, scored as an empty prediction`);

  // daft segment's objects.csv, read before scoring so that a bad --objects fails at once.
  let objects: { file: string; rows: ObjectConfidence[] } | undefined;
  try {
    objects = await readObjectsOption(options);
  } catch (e) {
    process.stderr.write(`${e instanceof DaftInputError ? e.oneLine() : (e as Error).message}\n`);
    return 1;
  }

  const results: CaseResult[] = [];
  const failed: { file: string; error: string }[] = [];
  const progress = new Progress(scored.length, "eval", process.stderr, !options.quiet && scored.length > 1);
  for (const key of scored) {
    const name = gtFiles.get(key)!;
    try {
      results.push({ ...(await scoreCase(name, predFiles.get(key), options, inputs.read)), key });
    } catch (e) {
      const problem = e instanceof DaftInputError ? e : new DaftInputError((e as Error).message);
      const file = problem.source ?? join(gtDir, name);
      process.stderr.write(`${problem.withSource(file).oneLine()}\n`);
      failed.push({ file, error: problem.message });
    }
    progress.tick(name);
  }

  const scoredObjects = objects ? joinObjectScores(objects.rows, results) : [];
  const triage: MaskConfidenceTriage | undefined =
    objects && scoredObjects.length > 0
      ? { file: objects.file, rows: confidenceTriage(scoredObjects) }
      : undefined;
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
  const bySource = summarizeBySource(
    results.map((r) => ({ case: r.name, modality: r.modality, ...r.metrics })),
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
  let pictures: string[];
  try {
    await mkdir(outDir, { recursive: true });
    pictures = await drawWorstCases(results, options, (key) => predFiles.get(key), inputs);
  } catch (e) {
    process.stderr.write(`${outDir}: cannot draw the worst cases: ${(e as Error).message}\n`);
    return 1;
  }
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
    ...(bySourceIsInformative(bySource)
      ? [
          "## By source and label",
          "",
          "Each modality's cases by the dataset they come from (the challenge name's `<dataset>` part), with the",
          "mean per class label over the cases whose ground truth holds it; sources with more labels per case than",
          `${MAX_CLASS_LABELS} number instances, which have no per-label mean.`,
          "",
          formatBySourceMarkdown(bySource),
        ]
      : []),
    "## By object size",
    "",
    "Ground-truth objects binned by the side of the square (2D) or cube (3D) of their area / volume; a median",
    "volume ratio below 1 means the model under-segments objects of that size, above 1 that it over-segments.",
    "",
    formatObjectSizeMarkdown(bySize),
    ...(triage ? maskConfidenceMarkdown(triage) : []),
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
    ...pictures,
  ].join("\n");
  const json = {
    predictions: resolve(predDir),
    groundTruth: resolve(gtDir),
    toleranceMm: options.toleranceMm,
    tolerancePx: options.tolerancePx,
    nsd2d: options.surface2d,
    summary,
    bySource,
    byObjectSize: bySize,
    bySlicePosition,
    ...(triage
      ? {
          maskConfidence: {
            objects: resolve(triage.file),
            rows: triage.rows.map((r) => ({ ...r, spearman: numberOrNull(r.spearman) })),
          },
        }
      : {}),
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
    pairedBySeries: inputs.pairedBySeries,
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
        dicom: { type: "string" },
        out: { type: "string", short: "o" },
        "tolerance-mm": { type: "string", default: "2" },
        "tolerance-px": { type: "string", default: "2" },
        "nsd-2d": { type: "string", default: "contour" },
        "only-predicted": { type: "boolean", default: false },
        pictures: { type: "string", default: "12" },
        images: { type: "string" },
        objects: { type: "string" },
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
  const pictures = o.pictures === "all" ? Infinity : Number(o.pictures);
  if (!(Number.isInteger(pictures) && pictures >= 0) && pictures !== Infinity) {
    process.stderr.write(`daft eval: --pictures must be a count ≥ 0 or "all", got "${o.pictures}"\n`);
    return 2;
  }
  return {
    predDir: o.pred,
    gtDir: o.gt,
    ...(o.dicom !== undefined ? { dicomDir: o.dicom } : {}),
    outDir: o.out ?? o.pred,
    toleranceMm,
    tolerancePx,
    surface2d: mode,
    onlyPredicted: o["only-predicted"] ?? false,
    quiet: o.quiet ?? false,
    pictures,
    ...(o.images !== undefined ? { imagesDir: o.images } : {}),
    ...(o.objects !== undefined ? { objectsFile: o.objects } : {}),
  };
}

interface MaskConfidenceTriage {
  file: string;
  rows: ConfidenceTriageRow[];
}

/**
 * daft segment's objects.csv for the mask-confidence triage (evalObjects.ts): --objects, or the predictions' own
 * objects.csv when there is one; a given file that cannot be read fails the run, a found one only warns.
 */
async function readObjectsOption(
  options: Options,
): Promise<{ file: string; rows: ObjectConfidence[] } | undefined> {
  const given = options.objectsFile;
  const file = given ?? join(options.predDir, "objects.csv");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if (given === undefined) return undefined;
    throw new DaftInputError(
      `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      file,
    );
  }
  try {
    return { file, rows: readObjectsCsv(text, file) };
  } catch (e) {
    if (given !== undefined) throw e;
    const line = e instanceof DaftInputError ? e.oneLine() : `${file}: ${(e as Error).message}`;
    process.stderr.write(`${line} (warning: no mask-confidence section)\n`);
    return undefined;
  }
}

function maskConfidenceMarkdown({ file, rows }: MaskConfidenceTriage): string[] {
  return [
    "## Mask confidence: which masks to check first",
    "",
    `The confidence \`daft segment\` gave each mask (${basename(file)}) against the DSC it scored: Spearman's rank`,
    "correlation per modality (1: confidence orders the masks by quality), and how many of the failed masks a",
    "reviewer meets by checking the least confident 10 % of each modality's masks first (by chance: about 10 %).",
    "",
    formatConfidenceTriageMarkdown(rows),
  ];
}

/** The worst cases' pictures (evalPictures.ts) and summary.md's section on them; warnings on stderr. */
async function drawWorstCases(
  results: readonly CaseResult[],
  options: Options,
  predictionOf: (key: string) => string | undefined,
  inputs: EvalInputs,
): Promise<string[]> {
  const worst = worstCases(
    results.map((r) => ({
      name: r.name,
      key: r.key,
      modality: r.modality,
      dsc: r.metrics.dsc,
      nsd: r.metrics.nsd,
    })),
    options.pictures,
  );
  const imagesDir = imagesFolderFor(options.gtDir, options.imagesDir);
  return writeCasePictures(worst, {
    outDir: options.outDir,
    ...(imagesDir ? { imagesDir } : {}),
    warn: (line) => process.stderr.write(`${line}\n`),
    labelMapsOf: async (c) => {
      const gt = await inputs.read.groundTruth(c.name);
      const predName = predictionOf(c.key);
      const pred = predName ? (await inputs.read.prediction(predName)).data : new Uint8Array(gt.data.length);
      const series = () => inputs.read.seriesOf(c.name, predName);
      const image = async () => {
        const study = await series();
        return study ? displayImageOfStudy(study) : undefined;
      };
      return { gt, pred, image };
    },
  });
}

/** One warning line per file, the first WARNINGS_NAMED of them, then one line with how many more. */
function warnEach(names: readonly string[], line: (name: string) => string): void {
  for (const n of names.slice(0, WARNINGS_NAMED)) process.stderr.write(`${line(n)}\n`);
  if (names.length > WARNINGS_NAMED)
    process.stderr.write(`… and ${names.length - WARNINGS_NAMED} more like it (all named in summary.json)\n`);
}

async function scoreCase(
  name: string,
  predName: string | undefined,
  options: Options,
  read: CaseReader,
): Promise<Omit<CaseResult, "key">> {
  const gtFile = join(options.gtDir, name);
  const gt = await read.groundTruth(name);
  const dims = gt.shape.length;
  let segs: ArrayLike<number>;
  if (predName !== undefined) {
    const predFile = join(options.predDir, predName);
    const pred = await read.prediction(predName);
    checkSameGrid(pred, gt, predFile, gtFile);
    segs = pred.data;
  } else {
    segs = new Uint8Array(gt.data.length);
  }
  if (dims === 3 && !gt.spacing) throw new DaftInputError("3D ground truth without a voxel size", gtFile);
  const metrics = evaluateCase({
    gt: gt.data,
    pred: segs,
    shape: gt.shape,
    spacing: gt.spacing,
    tolerance: dims === 3 ? options.toleranceMm : options.tolerancePx,
    surface2d: options.surface2d,
  });
  return {
    name,
    modality: modalityFromCaseName(name),
    dims,
    metrics,
    predictionMissing: predName === undefined,
  };
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
