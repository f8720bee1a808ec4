/**
 * Segmentation behind the HTTP API: uploaded files → the core's `segmentInput` (the call `daft segment` makes,
 * with the same case options), one request at a time through the inference queue. The output's file name follows
 * the CLI's rule (labelMapFileName), so a label map fetched over HTTP and one written by the CLI are the same file.
 */
import {
  DaftInputError,
  inputFormatOf,
  parseCtWindow,
  parseEdgeRefinement,
  checkObjectName,
  routingOptions,
  segmentInput,
  type BoxPrompts,
  type Expert,
  type InputBytes,
  type Manifest,
  type Mirroring,
  type OverlapPolicy,
  type SegmentedInput,
  type SegmentInputOptions,
  type Selector,
  type Subsets,
} from "@daft/core";
import { labelMapFileName, type InputRef } from "../cli/segmentInputs.js";
import { decodeSeriesInWorkers } from "../io/dicomDecodePool.js";
import type { InferenceQueue } from "./queue.js";
import { HttpError } from "./responses.js";

/** What the server segments with: a ModelStore (or anything shaped like it). */
export interface ModelSource {
  dir: string;
  manifest: Manifest;
  selector?: Selector | undefined;
  /** Cluster subsets (manifest routing.subsets), routed on as the CLI does. */
  subsets?: Subsets | undefined;
  load(name: string): Promise<Expert>;
}

/** One uploaded file: its (client-side) name and bytes. */
export interface Upload {
  fileName: string;
  bytes: Uint8Array;
}

export interface SegmentJob {
  /** One file, or several: the files of one DICOM series. */
  uploads: Upload[];
  /** Boxes; absent: an .npz case's own boxes. */
  prompts?: BoxPrompts;
  expert?: string;
  modality?: string;
  /** CT window, a preset name or "W/L". */
  window?: string;
  /** Small-object zoom where the expert supports it (default true). */
  zoom?: boolean;
  /** Test-time mirroring (default: the expert's manifest setting). */
  mirroring?: Mirroring;
  /** Which mask is on top where masks overlap (default inner: paintOrder.ts). */
  overlaps?: OverlapPolicy;
  /** Edge refinement, "off" or "<radius>,<eps>" (default: the expert's manifest setting; edgeRefinement.ts). */
  edges?: string;
  /** Paint each mask only inside its own box (default true). */
  clipToBox?: boolean;
  /** The objects' names, one per box (prompts/objectNames.ts). */
  names?: string[];
  /** Also encode a DICOM-SEG (DICOM inputs only), naming this software version. */
  dicomSeg?: { softwareVersion: string };
}

export interface SegmentJobResult {
  result: SegmentedInput;
  /** The input as the CLI would name it (routing, output file name). */
  input: InputRef;
  /** The label map's file name, exactly as `daft segment` writes it. */
  fileName: string;
  /** Time spent waiting in the queue (ms). */
  queueMs: number;
}

export class SegmentEngine {
  constructor(
    readonly models: ModelSource,
    readonly queue: InferenceQueue,
    private readonly cacheBytes: number,
    /** Worker threads for an uploaded compressed DICOM series (io/dicomDecodePool.ts); 1: none. */
    private readonly decodeThreads = 1,
  ) {}

  expertNames(): string[] {
    return this.models.manifest.experts.map((e) => e.name);
  }

  /** 404 for an expert the manifest does not list. */
  checkExpert(name: string, what = "expert"): void {
    if (!this.expertNames().includes(name)) {
      throw new HttpError(
        404,
        `${what} "${name}": not in the manifest (available: ${this.expertNames().join(", ")})`,
      );
    }
  }

  /**
   * Validates the job (expert, window) before queueing, then segments it in turn. DaftInputErrors (bad input,
   * boxes outside the image, …) become 400 naming the file; anything else propagates as a server fault.
   */
  async segment(job: SegmentJob, signal?: AbortSignal): Promise<SegmentJobResult> {
    if (job.expert !== undefined) this.checkExpert(job.expert);
    let window: SegmentInputOptions["window"];
    try {
      if (job.window !== undefined) window = parseCtWindow(job.window);
    } catch (error) {
      throw new HttpError(400, `request: ${(error as Error).message.replace(/^--window/, "window")}`);
    }
    let names: string[] | undefined;
    try {
      names = job.names?.map((name, i) => checkObjectName(name, `names[${i}]`));
    } catch (error) {
      throw new HttpError(400, `request: ${(error as Error).message}`);
    }
    const { input, bytes } = inputOf(job.uploads);
    if (!job.prompts && !carriesBoxes(bytes)) {
      throw new HttpError(
        400,
        `${input.name}: has no box prompts (only .npz cases carry their own boxes); give boxes [[x0,y0,x1,y1], …] ` +
          "or [[x0,y0,z0,x1,y1,z1], …]",
      );
    }
    const options: SegmentInputOptions = {
      ...routingOptions(this.models),
      loadExpert: (name) => this.models.load(name),
      now: () => performance.now(),
      expert: job.expert,
      modality: job.modality,
      shareEmbeddings: true,
      cacheBytes: this.cacheBytes,
      smallObjectZoom: job.zoom ?? true,
      ...(job.mirroring ? { mirroring: job.mirroring } : {}),
      ...(job.overlaps ? { overlaps: job.overlaps } : {}),
      ...(job.edges !== undefined ? { edgeRefinement: parseEdgeRefinement(job.edges) } : {}),
      ...(job.clipToBox !== undefined ? { clipToBox: job.clipToBox } : {}),
      ...(names ? { names } : {}),
      ...(window ? { window } : {}),
      ...(job.dicomSeg ? { dicomSeg: { ...job.dicomSeg, modelName: "daft serve" } } : {}),
    };
    const queued = performance.now();
    let queueMs = 0;
    try {
      const result = await this.queue.run(async () => {
        const started = performance.now();
        queueMs = started - queued;
        const decoded =
          bytes.kind === "dicom-series"
            ? { ...bytes, files: (await decodeSeriesInWorkers(bytes.files, this.decodeThreads)).files }
            : bytes;
        const workerMs = performance.now() - started;
        const segmented = await segmentInput(decoded, job.prompts, options);
        // Decoding on worker threads is part of decoding the input.
        segmented.record.timings.decodeInputMs += workerMs;
        segmented.record.totalMs += workerMs;
        return segmented;
      }, signal);
      return { result, input, fileName: labelMapFileName(input, result), queueMs };
    } catch (error) {
      if (error instanceof DaftInputError) {
        // The core words some problems for the command line ("--world"); over HTTP they are request fields.
        const line = error.withSource(input.name).oneLine();
        throw new HttpError(400, line.replace(/--(world|window|modality|expert)\b/g, "$1"));
      }
      throw error;
    }
  }
}

/** Whether the input can carry its own boxes (a challenge .npz); a file of unknown format is refused here. */
function carriesBoxes(bytes: InputBytes): boolean {
  if (bytes.kind !== "file") return false;
  try {
    return inputFormatOf(bytes.bytes, bytes.name) === "npz";
  } catch (error) {
    if (error instanceof DaftInputError) throw new HttpError(400, error.withSource(bytes.name).oneLine());
    throw error;
  }
}

/** The input as `daft segment` would see it: a file by its base name, or a DICOM series folder. */
function inputOf(uploads: Upload[]): { input: InputRef; bytes: InputBytes } {
  const first = uploads[0];
  if (!first) throw new HttpError(400, "file: no file part in the upload");
  const names = uploads.map((u) => baseName(u.fileName));
  if (uploads.length === 1) {
    const name = names[0]!;
    return {
      input: { kind: "file", name, path: name },
      bytes: { kind: "file", name, bytes: first.bytes },
    };
  }
  const name = seriesName(uploads.map((u) => u.fileName));
  return {
    input: { kind: "dicom-folder", name, path: name },
    bytes: {
      kind: "dicom-series",
      name,
      files: uploads.map((u, i) => ({ name: names[i]!, bytes: u.bytes })),
    },
  };
}

/** The last segment of a client's file name (browsers may send "folder/file"), without control characters. */
export function baseName(fileName: string): string {
  const base = (
    fileName
      .split(/[\\/]/)
      .filter((s) => s !== "")
      .pop() ?? ""
  ).replace(/[\0-\x1f\x7f]/g, "");
  if (base === "" || base === "." || base === "..") {
    throw new HttpError(
      400,
      `file: the upload "${fileName}" has no usable file name (it routes the case and names the result)`,
    );
  }
  return base;
}

/**
 * The name of a DICOM series sent as several files: the folder the client named them under (like the CLI, which
 * names a series by its folder), else the first file's name without its suffix.
 */
function seriesName(fileNames: string[]): string {
  const folders = fileNames.map((n) =>
    n
      .split(/[\\/]/)
      .filter((s) => s !== "")
      .slice(0, -1)
      .pop(),
  );
  const folder = folders[0];
  if (folder && folder !== "." && folder !== ".." && folders.every((f) => f === folder))
    return baseName(folder);
  return baseName([...fileNames].sort()[0]!).replace(/\.(dcm|dicom|ima)$/i, "");
}
