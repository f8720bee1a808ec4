import { mkdir, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { readFileBytes } from "../io/fileBytes.js";
import {
  caseOverlay,
  DaftInputError,
  loadRasterCodecs,
  parseBoxArgument,
  parseNamesArgument,
  parsePromptFile,
  parseCtWindow,
  parseEdgeRefinement,
  type EdgeRefinement,
  routingOptions,
  segmentInput,
  slicerSegmentationOf,
  CT_WINDOW_PRESETS,
  MIRRORINGS,
  OVERLAP_POLICIES,
  type BoxPrompts,
  type CaseRecord,
  type CtWindow,
  type InputBytes,
  type Selector,
  type SegmentCaseOptions,
  type SegmentedInput,
  type SegmentInputOptions,
} from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { defaultModelsDir, loadSelector, ModelStore } from "../runtime/modelStore.js";
import { daftVersion } from "../server/paths.js";
import { fileErrorLine, parseCommandLine } from "./common.js";
import { CaseProgress, Progress } from "./progress.js";
import { OBJECT_HEADER, SegmentRunTables, TIMING_HEADER } from "./segmentTables.js";
import { listInputs, looksLikeDicom, readDicomFolder, stemOf, type InputRef } from "./segmentInputs.js";
import { writeSegmentOutputs } from "./segmentOutputs.js";
import { openBoxesFrom, type BoxesFromSource } from "./boxesFrom.js";
import { decodeSeriesInWorkers } from "../io/dicomDecodePool.js";
import { EarlierRows, expectedOutputPaths, outputsAreCurrent, type RequestedOutputs } from "./continueRun.js";

export const HELP = `usage: daft segment <input | folder>... -o <out-dir> [options]

Segments each input with box prompts and writes its label map (uint16 labels, box index + 1) to <out-dir>,
plus <out-dir>/timings.csv (per case) and <out-dir>/objects.csv (per box: voxels and mask confidence, 0..1 —
check the least confident masks first). Inputs and outputs:
  case.npz (challenge: imgs, boxes[, spacing])  → <out-dir>/case.npz with key 'segs'
  scan.nii / scan.nii.gz (NIfTI-1/2)            → <out-dir>/scan.nii[.gz], the input's header and affine, uint16
  scan.nrrd (3D Slicer, ITK)                    → <out-dir>/scan.nrrd, the input's grid and space, uint16
  scan.mha (MetaImage: ITK, grand-challenge)    → <out-dir>/scan.mha, the input's grid and direction, uint16
  DICOM series folder / single DICOM image      → <out-dir>/<folder or file>.nii.gz with the DICOM geometry
                                                  (and <folder or file>.seg.dcm with --dicom-seg)
  photo.png / .jpg / .tif / .bmp                → <out-dir>/photo.png, a single-channel label map
A folder holds cases (.npz, .nii[.gz], .nrrd, .mha, pictures) and/or DICOM files (itself or a subfolder = one series).
NIfTI, NRRD, MetaImage, DICOM and pictures carry no prompts: give --box or --boxes. Intensities: CT is windowed (--window, default
abdomen 400/40), 8-bit data are used as they are, anything else is clipped to its 0.5–99.5 percentiles.

options:
  -o, --out <dir>          output folder (created)
  --box <x0,y0,x1,y1 | x0,y0,z0,x1,y1,z1>
                           a box prompt in voxels (max corner inclusive); repeat for several objects (label =
                           order given). For .npz inputs it replaces the file's boxes
  --boxes <file.json|csv>  box prompts from a file: JSON [[...], ...] or {"boxes": [...], "names"?: [...]}, or
                           CSV lines
  --names <a,b,...>        the objects' names, one per box in box order (the boxes of .npz files, --box, --boxes
                           or --boxes-from): segment names of --dicom-seg and --slicer-seg, the name column of
                           objects.csv (default "box <n>"); distinct, printable ASCII without , " or \\
  --boxes-from <file|dir>  one box per label of an existing segmentation on the input's grid (a reference, a rough
                           segmentation from another tool, a Slicer .seg.nrrd): label values in increasing order
                           are boxes 1, 2, …. A folder holds one label map per input, paired by name as daft eval
                           pairs files
  --world                  boxes are millimetres in the input's physical space: NIfTI RAS (sform, else qform),
                           DICOM LPS (patient coordinates), NRRD its own space (Slicer: LPS), MetaImage LPS; always
                           x0,y0,z0,x1,y1,z1
  --window <preset|W/L>    CT window, forced whatever the modality (default for CT: abdomen 400/40); presets:
                           ${Object.entries(CT_WINDOW_PRESETS)
                             .map(([name, w]) => `${name} ${w.width}/${w.level}`)
                             .join(", ")}
  --overlay <file.png>     (one input) also write the image with mask outlines and boxes (3D: middle slices)
  --dicom-seg              DICOM inputs: also write <out-dir>/<name>.seg.dcm, a DICOM Segmentation (BINARY, one
                           segment per label, frames where it has voxels) in the source's study, referencing
                           its images. Other inputs are refused (exit 2 when none is DICOM); an empty label map
                           gets no SEG (one line says so)
  --slicer-seg             also write <out-dir>/<name>.seg.nrrd, a 3D Slicer segmentation: the label map in the
                           input's grid and patient frame (LPS) with one named, coloured segment per box, which
                           Slicer opens in the Segment Editor (any input; pictures and .npz placed by spacing)
  --models <dir>           models folder with manifest.json (default: the shipped models, or $DAFT_MODELS)
  --modality <name>        route every case as this modality (e.g. CT, Microscopy); CT also selects the window
  --expert <name>          use this expert for every case
  --overlays <dir>         also write <dir>/<case>.png: the image with masks and boxes (3D: middle slices)
  --selector <file>        learned selector JSON (default: the one the manifest names)
  --no-selector            do not consult a learned selector
  --explain                print the routing decision and cache use of each case
  --ignore-names           route without the file-name rules (measures the learned selector alone)
  --no-zoom                segment small boxes on the whole image even where the expert declares smallObjectZoom
  --mirror <off|x|xy>      test-time mirroring: also segment the image mirrored left–right (x; 2 passes) or
                           left–right, top–bottom and both (xy; 4 passes) and average the logits; off = 1 pass,
                           fastest (default: the expert's testTimeMirroring in the manifest; shipped: xy)
  --overlaps <inner|later> where masks overlap: inner (default) puts a box that lies inside another box above it
                           and otherwise later boxes on top; later = later boxes always on top (the challenge's
                           reference painting, which hides an inner object whose box comes first)
  --edges <off|R,EPS>      refine each mask's edge onto the image's edges with a guided filter of radius R
                           model-frame pixels and regularization EPS (e.g. 1,0.01); off = bilinear upsampling
                           only (default: the expert's edgeRefinement in the manifest, else off)
  --clip-to-box <on|off>   on (default): each mask is painted only inside its own box (in 3D, the box's x–y
                           extent on every slice); off = whatever the model outputs, as the reference pipeline
  --baseline box           no model: write every box as its own mask (the challenge's reference baseline)
  --no-embedding-cache     re-encode every box's slices (the reference pipeline; for benchmarks)
  --cache-mb <n>           bound of the slice embedding cache (default 1024)
  --threads <n>            cores to use (default: all): models run side by side on up to 4 threads (the main
                           thread, and worker threads once a case has enough work: test-time mirroring's passes),
                           one onnxruntime thread each, more only beyond 4 cores; worker threads also decode a
                           compressed DICOM series of 8 or more slices, and one silent for 60 s on a slice fails
                           that input with one line naming the file
  --continue               resume a stopped run: skip inputs whose outputs (label map and the files the options
                           ask for) are already in <out-dir> and no older than the input; their timings.csv rows
                           are kept. It trusts those files: after changing models, boxes or options, start afresh
  --quiet                  no progress output (several inputs: a bar over the inputs; one input that takes
                           more than a second on a terminal: a bar over its slices or tiles)
  -h, --help               this help`;

/** An option's value among `allowed`: undefined when not given, null (after one line on stderr) when not allowed. */
function oneOf<T extends string>(
  option: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined | null {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a === value);
  if (found === undefined)
    process.stderr.write(`daft segment: ${option} must be one of ${allowed.join(", ")}\n`);
  return found ?? null;
}

export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandLine(
    "daft segment",
    {
      args: joinNegativeValues(args),
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o" },
        models: { type: "string" },
        modality: { type: "string" },
        expert: { type: "string" },
        explain: { type: "boolean", default: false },
        overlays: { type: "string" },
        overlay: { type: "string" },
        "dicom-seg": { type: "boolean", default: false },
        "slicer-seg": { type: "boolean", default: false },
        box: { type: "string", multiple: true },
        boxes: { type: "string" },
        names: { type: "string" },
        world: { type: "boolean", default: false },
        "boxes-from": { type: "string" },
        window: { type: "string" },
        baseline: { type: "string" },
        "no-zoom": { type: "boolean", default: false },
        mirror: { type: "string" },
        overlaps: { type: "string" },
        edges: { type: "string" },
        "clip-to-box": { type: "string" },
        "ignore-names": { type: "boolean", default: false },
        selector: { type: "string" },
        "no-selector": { type: "boolean", default: false },
        "no-embedding-cache": { type: "boolean", default: false },
        "cache-mb": { type: "string" },
        threads: { type: "string" },
        continue: { type: "boolean", default: false },
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
    process.stderr.write(`daft segment: give at least one input and -o <out-dir>\n${HELP}\n`);
    return 2;
  }
  if (o.baseline !== undefined && o.baseline !== "box") {
    process.stderr.write(`daft segment: --baseline must be "box"\n`);
    return 2;
  }
  const mirroring = oneOf("--mirror", o.mirror, MIRRORINGS);
  const overlaps = oneOf("--overlaps", o.overlaps, OVERLAP_POLICIES);
  const clipToBox = oneOf("--clip-to-box", o["clip-to-box"], ["on", "off"] as const);
  if (mirroring === null || overlaps === null || clipToBox === null) return 2;
  const threads = o.threads ? Number(o.threads) : availableParallelism();
  const cacheMb = o["cache-mb"] ? Number(o["cache-mb"]) : 1024;
  if (!Number.isInteger(threads) || threads < 1 || !(cacheMb > 0)) {
    process.stderr.write(`daft segment: --threads must be a positive integer and --cache-mb positive\n`);
    return 2;
  }

  let commandBoxes: number[][] | undefined;
  let names: string[] | undefined;
  let window: (CtWindow & { name: string }) | undefined;
  let edgeRefinement: EdgeRefinement | null | undefined;
  try {
    if ([o.box, o.boxes, o["boxes-from"]].filter((given) => given !== undefined).length > 1)
      throw new DaftInputError("give boxes with one of --box, --boxes and --boxes-from");
    if (o.world && o["boxes-from"])
      throw new DaftInputError(
        "--world applies to --box or --boxes; --boxes-from boxes are the label map's voxels",
      );
    commandBoxes = o.box?.map(parseBoxArgument);
    if (commandBoxes && commandBoxes.some((b) => b.length !== commandBoxes![0]!.length)) {
      throw new DaftInputError("every --box needs the same count of numbers (4 for 2D, 6 for 3D)");
    }
    if (o.window !== undefined) window = parseCtWindow(o.window);
    if (o.edges !== undefined) edgeRefinement = parseEdgeRefinement(o.edges);
    if (o.names !== undefined) names = parseNamesArgument(o.names);
  } catch (e) {
    process.stderr.write(`daft segment: ${(e as Error).message}\n`);
    return 2;
  }
  if (o.world && !commandBoxes && !o.boxes) {
    process.stderr.write(`daft segment: --world applies to --box or --boxes; give one of them\n`);
    return 2;
  }

  let inputs: InputRef[];
  let boxesFrom: BoxesFromSource | undefined;
  let store: ModelStore;
  let selector: Selector | undefined;
  try {
    if (o.boxes) {
      const file = parsePromptFile(await readText(o.boxes), o.boxes);
      commandBoxes = file.boxes;
      if (file.names && names)
        throw new DaftInputError(`names the boxes and so does --names; keep one`, o.boxes);
      names ??= file.names;
    }
    inputs = await listInputs(positionals);
    if (o["boxes-from"]) boxesFrom = await openBoxesFrom(resolve(o["boxes-from"]), inputs);
    if (o["dicom-seg"] && !(await anyDicom(inputs))) {
      process.stderr.write(
        `daft segment: --dicom-seg writes DICOM Segmentations of DICOM inputs, but none of the ${inputs.length} ` +
          "input(s) is DICOM\n",
      );
      return 2;
    }
    if (o.overlay && inputs.length !== 1) {
      throw new DaftInputError(
        `--overlay draws one input, but ${inputs.length} were given; use --overlays <dir> for several`,
      );
    }
    store = await ModelStore.open(resolve(o.models ?? defaultModelsDir()), { threads });
    selector = o["no-selector"]
      ? undefined
      : o.selector
        ? await loadSelector(resolve(o.selector))
        : store.selector;
  } catch (e) {
    process.stderr.write(`${e instanceof DaftInputError ? e.oneLine() : (e as Error).message}\n`);
    return 1;
  }
  const outDir = resolve(o.out);
  await mkdir(outDir, { recursive: true });
  const overlayPathOf = (input: InputRef): string | undefined =>
    o.overlay
      ? resolve(o.overlay)
      : o.overlays
        ? join(resolve(o.overlays), `${stemOf(input)}.png`)
        : undefined;

  const tables = new SegmentRunTables();
  const written = new Map<string, string>();
  const pending = o.continue
    ? await skipSegmentedInputs(inputs, {
        requested: {
          outDir,
          dicomSeg: o["dicom-seg"],
          slicerSeg: o["slicer-seg"],
          ...(o.overlay || o.overlays ? { overlayOf: (input: InputRef) => overlayPathOf(input)! } : {}),
        },
        tables,
        written,
      })
    : inputs;
  const progress = new Progress(pending.length, "segment", process.stderr, !o.quiet && pending.length > 1);
  const caseOptions: SegmentCaseOptions = {
    ...routingOptions(store),
    loadExpert: (n) => store.load(n),
    now: () => performance.now(),
    expert: o.expert,
    modality: o.modality,
    shareEmbeddings: !o["no-embedding-cache"],
    cacheBytes: cacheMb * 1024 * 1024,
    baseline: o.baseline === "box" ? "box" : undefined,
    smallObjectZoom: !o["no-zoom"],
    mirroring,
    overlaps,
    ...(clipToBox !== undefined ? { clipToBox: clipToBox === "on" } : {}),
    ...(edgeRefinement !== undefined ? { edgeRefinement } : {}),
    ...(names ? { names } : {}),
    ignoreFileName: o["ignore-names"],
    selector,
    ...(o["dicom-seg"] ? { dicomSeg: { softwareVersion: daftVersion() } } : {}),
  };
  const prompts: BoxPrompts | undefined = commandBoxes ? { boxes: commandBoxes, world: o.world } : undefined;
  let failures = 0;
  // --explain says once per expert how its sessions started, and where its models ran when that changes.
  const explained = new Set<string>();
  const threadsExplained = new Map<string, string>();
  const sessionStart = (expert: string) => {
    const how = explained.has(expert) ? undefined : store.sessionStart(expert);
    explained.add(expert);
    const where = store.whereModelsRan(expert);
    const whereChanged = where !== undefined && where !== threadsExplained.get(expert);
    if (where !== undefined) threadsExplained.set(expert, where);
    return (
      (how ? `  expert "${expert}": ${how}\n` : "") + (whereChanged ? `  expert "${expert}": ${where}\n` : "")
    );
  };
  for (const input of pending) {
    const ioStart = performance.now();
    // A single input gets a bar of its own parts (slices, tiles) when it takes a while on a terminal.
    const caseProgress =
      pending.length === 1 && !o.quiet ? new CaseProgress(`segment ${input.name}`) : undefined;
    try {
      const inputPrompts = boxesFrom ? await boxesFrom.promptsFor(input) : prompts;
      const result = await segmentInputRef(
        input,
        inputPrompts,
        {
          ...caseOptions,
          ...(window ? { window } : {}),
          ...(caseProgress
            ? { onProgress: (done: number, total: number) => caseProgress.update(done, total) }
            : {}),
        },
        threads,
      );
      const ioRead = result.readMs;
      const writeStart = performance.now();
      const files = await writeSegmentOutputs(input, result, outDir, written, {
        ...(o["slicer-seg"] ? { slicerSegmentation: slicerSegmentationOf(result) } : {}),
      });
      if (files.dicomSegSkipped) {
        process.stderr.write(`${input.path}: no DICOM-SEG written: ${files.dicomSegSkipped}\n`);
      }
      const ioMs = ioRead + (performance.now() - writeStart);
      const overlayPath = overlayPathOf(input);
      if (overlayPath) {
        await mkdir(dirname(overlayPath), { recursive: true });
        const { encodeRgbPng } = await loadRasterCodecs();
        await writeFileAtomic(overlayPath, encodeRgbPng(caseOverlay(result.input, result.labels)));
      }
      tables.add(input, result.record, result.labels, ioMs, performance.now() - ioStart);
      if (o.explain) {
        const seg = result.dicomSeg?.written
          ? `  DICOM-SEG ${files.dicomSeg}: ${result.dicomSeg.segments} segment(s), ${result.dicomSeg.frames} frame(s)\n`
          : "";
        const workers = result.decodeWorkers
          ? `  compressed slices decoded on ${result.decodeWorkers} worker threads\n`
          : "";
        const slicer = files.slicerSegmentation
          ? `  Slicer segmentation ${files.slicerSegmentation}: ${result.input.boxes.length} segment(s)\n`
          : "";
        process.stdout.write(
          explain(result.record) +
            (result.details ? `  ${result.details}\n` : "") +
            sessionStart(result.record.route.expert) +
            workers +
            seg +
            slicer,
        );
      }
    } catch (e) {
      failures++;
      caseProgress?.end(); // the error on a line of its own, not after a bar left half way
      process.stderr.write(`${fileErrorLine(e, input.path)}\n`);
    }
    progress.tick(input.name);
  }
  await tables.write(outDir, inputs);
  await store.dispose();
  if (failures > 0) {
    if (pending.length > 1)
      process.stderr.write(`daft segment: ${failures} of ${pending.length} cases failed\n`);
    return 1;
  }
  return 0;
}

/**
 * --continue: the inputs still to segment. For each input whose outputs are all there and current, its paths go
 * into `written` (a later input that would overwrite them is still refused), its earlier timings.csv and
 * objects.csv rows into `tables`, and one line on stderr says how many were skipped.
 */
async function skipSegmentedInputs(
  inputs: InputRef[],
  run: { requested: RequestedOutputs; tables: SegmentRunTables; written: Map<string, string> },
): Promise<InputRef[]> {
  const readEarlier = async (file: string, header: string) =>
    new EarlierRows(await readFile(join(run.requested.outDir, file), "utf8").catch(() => undefined), header);
  const earlier = {
    timings: await readEarlier("timings.csv", TIMING_HEADER),
    objects: await readEarlier("objects.csv", OBJECT_HEADER),
  };
  const pending: InputRef[] = [];
  for (const input of inputs) {
    const paths = expectedOutputPaths(input, run.requested);
    if (!paths || !(await outputsAreCurrent(input, paths))) {
      pending.push(input);
      continue;
    }
    for (const path of paths) run.written.set(path, input.path);
    run.tables.keep(input, earlier);
  }
  const skipped = inputs.length - pending.length;
  if (skipped > 0) {
    process.stderr.write(
      `daft segment: --continue: ${skipped} of ${inputs.length} input(s) already segmented in ` +
        `${run.requested.outDir}, ${pending.length} to go\n`,
    );
  }
  return pending;
}

/** Reads one input (file or DICOM series folder) and segments it with the core's segmentInput. */
async function segmentInputRef(
  input: InputRef,
  prompts: BoxPrompts | undefined,
  opts: SegmentInputOptions,
  threads: number,
): Promise<SegmentedInput & { readMs: number; decodeWorkers: number }> {
  const start = performance.now();
  const series =
    input.kind === "dicom-folder"
      ? await decodeSeriesInWorkers(await readDicomFolder(input.path), threads)
      : undefined;
  const bytes: InputBytes =
    input.kind === "dicom-folder"
      ? { kind: "dicom-series", name: input.name, source: input.path, files: series!.files }
      : {
          kind: "file",
          name: input.name,
          source: input.path,
          bytes: await readFileBytes(input.path),
        };
  const readMs = performance.now() - start;
  return { ...(await segmentInput(bytes, prompts, opts)), readMs, decodeWorkers: series?.workers ?? 0 };
}

async function anyDicom(inputs: InputRef[]): Promise<boolean> {
  for (const input of inputs) if (await looksLikeDicom(input)) return true;
  return false;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new DaftInputError("cannot read the boxes file", path);
  }
}

/**
 * `--box -120,3,…`: parseArgs would take a value starting with "-" for an option; numbers are joined to their
 * option ("--box=-120,3,…") so world coordinates need no "=".
 */
function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if ((arg === "--box" || arg === "--window") && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function explain(r: CaseRecord): string {
  return (
    `${r.case}: ${r.dimension}D ${r.shape.join("×")}, ${r.boxes} box(es) → expert "${r.route.expert}" ` +
    `(rule ${r.route.rule}: ${r.route.reason}${r.route.modality ? `; modality ${r.route.modality}` : ""}` +
    `${r.route.confidence === undefined ? "" : `; confidence ${r.route.confidence.toFixed(3)}`}); ` +
    `${r.slices} slice(s), ${r.cache.encodes} encoder run(s), ${r.cache.hits} cache hit(s), ` +
    `${r.totalMs.toFixed(0)} ms\n${leastConfident(r)}`
  );
}

/** `--explain`'s line on the mask the model was least sure of (objects.csv has them all). */
function leastConfident(r: CaseRecord): string {
  const scored = r.confidence.flatMap((c, i) => (c === null ? [] : [{ c, box: i + 1 }]));
  if (scored.length === 0) return "";
  const least = scored.reduce((a, b) => (b.c < a.c ? b : a));
  return `  mask confidence: lowest ${least.c.toFixed(2)} (box ${least.box}) of ${scored.length} box(es)\n`;
}
