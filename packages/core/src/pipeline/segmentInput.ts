/**
 * One user input, as bytes, through the engine — the single entry point the CLI, the HTTP server and the browser
 * worker share, so the three give the same label map for the same file and boxes:
 * decode (npz | NIfTI | NRRD | MetaImage | DICOM | picture) → segment (route, preprocess, encode once per slice, decode, paint) →
 * the label map encoded in the input's own format (npz 'segs', NIfTI with the input's header, NRRD or MetaImage in
 * the input's grid and space, PNG).
 */
import { DaftInputError } from "../errors.js";
import { describeMapping, type CtWindow } from "../image/modelIntensities.js";
import type { ChallengeCase } from "../io/challengeCase.js";
import { loadDicomSeriesDecoder } from "../io/codecModules.js";
import { inputFormatOf, decodeStudyFile } from "../io/decodeStudy.js";
import {
  checkDicomSegSource,
  encodeDicomSeg,
  type DicomSegOptions,
  type DicomSegResult,
} from "../io/dicomSeg.js";
import type { DicomFileBytes } from "../io/dicomSeries.js";
import {
  boxSegments,
  encodeSlicerSegmentation,
  gridFromSpacing,
  type SlicerSegmentationGrid,
} from "../io/slicerSegmentation.js";
import type { Study, StudyGeometry } from "../io/study.js";
import type { Manifest } from "../manifest/schema.js";
import type { Selector } from "../routing/selector.js";
import type { Subsets } from "../routing/subsets.js";
import { segmentChallengeCase, type CaseRecord, type SegmentCaseOptions } from "./segmentCase.js";
import { segmentNpzWithBoxes, segmentStudy, type BoxPrompts } from "./segmentStudy.js";

/**
 * A single file, or the files of one DICOM series. `name` is the case name (routing by file name, timings);
 * `source` (default: name) is what decode errors call it, e.g. the full path.
 */
export type InputBytes =
  | { kind: "file"; name: string; source?: string; bytes: Uint8Array }
  | { kind: "dicom-series"; name: string; source?: string; files: DicomFileBytes[] };

export interface SegmentInputOptions extends SegmentCaseOptions {
  /** A forced CT window (--window). */
  window?: CtWindow & { name: string };
  /**
   * Also encode the label map as a DICOM-SEG (DICOM inputs only: any other input is refused before it is
   * segmented). The segment algorithm is named after the expert that ran.
   */
  dicomSeg?: Omit<DicomSegOptions, "expert">;
}

/** The routing data a models folder ships: what Node's ModelStore and the browser's model store both hold. */
export interface ShippedRouting {
  manifest: Manifest;
  /** The learned selector the manifest names (routing.selector). */
  selector?: Selector | undefined;
  /** The cluster subsets the manifest names (routing.subsets). */
  subsets?: Subsets | undefined;
}

/**
 * Case options that route with everything the models folder ships — manifest rules, learned selector, cluster
 * subsets — so the CLI, the server and the browser cannot drift apart in how they choose an expert.
 */
export function routingOptions(
  models: ShippedRouting,
): Pick<SegmentCaseOptions, "manifest" | "selector" | "subsets"> {
  return {
    manifest: models.manifest,
    ...(models.selector ? { selector: models.selector } : {}),
    ...(models.subsets ? { subsets: models.subsets } : {}),
  };
}

export interface SegmentedInput {
  format: "npz" | "study";
  /** The label map file: npz with 'segs', NIfTI (input header) or PNG. */
  output: Uint8Array;
  /** Appended to the input's stem for the output name ("" for npz: same name as the input). */
  extension: string;
  record: CaseRecord;
  /** The engine's input (mapped intensities, voxel boxes), e.g. for overlays. */
  input: ChallengeCase;
  labels: Uint16Array;
  /** What the input was and how its intensities were mapped (for --explain). */
  details?: string;
  /** With options.dicomSeg: the DICOM-SEG, or why none was written (an empty label map). */
  dicomSeg?: DicomSegResult;
  /** A study input's placement and voxel size (z, y, x), as decoded: what other label-map formats are written with. */
  placement?: { geometry: StudyGeometry; spacing: [number, number, number] };
}

/**
 * Segments one input. Prompts are required for NIfTI, DICOM and pictures; for an .npz they replace the file's
 * own boxes. Errors are DaftInputErrors naming `input.name` (or the inner file).
 */
export async function segmentInput(
  input: InputBytes,
  prompts: BoxPrompts | undefined,
  opts: SegmentInputOptions,
): Promise<SegmentedInput> {
  if (input.kind === "dicom-series") {
    const started = opts.now();
    const { decodeDicomStudy } = await loadDicomSeriesDecoder();
    const study = decodeDicomStudy(input.files, input.source ?? input.name);
    return segmentDecodedStudy(input, study, opts.now() - started, prompts, opts);
  }
  if (inputFormatOf(input.bytes, input.name) === "npz") {
    if (opts.dicomSeg) throw notDicom("a challenge .npz case", input);
    const result = prompts
      ? await segmentNpzWithBoxes(input.name, input.bytes, prompts, opts)
      : await segmentChallengeCase(input.name, input.bytes, opts);
    return { format: "npz", extension: "", ...result };
  }
  const started = opts.now();
  const study = await decodeStudyFile(input.bytes, input.source ?? input.name);
  return segmentDecodedStudy(input, study, opts.now() - started, prompts, opts);
}

async function segmentDecodedStudy(
  input: InputBytes,
  study: Study,
  decodeMs: number,
  prompts: BoxPrompts | undefined,
  opts: SegmentInputOptions,
): Promise<SegmentedInput> {
  if (!prompts) {
    throw new DaftInputError(
      "has no box prompts (only .npz cases carry boxes); give --box x0,y0[,z0],x1,y1[,z1], --boxes <file> or --boxes-from <label map>",
      input.source ?? input.name,
    );
  }
  if (opts.dicomSeg) {
    if (!study.dicom) throw notDicom(describeFormat(study), input);
    checkDicomSegSource(study.dicom, input.source ?? input.name);
  }
  const result = await segmentStudy(input.name, study, prompts, opts);
  result.record.timings.decodeInputMs += decodeMs;
  let dicomSeg: DicomSegResult | undefined;
  if (opts.dicomSeg && study.dicom) {
    const started = opts.now();
    dicomSeg = encodeDicomSeg(
      study.dicom,
      result.labels,
      {
        ...opts.dicomSeg,
        expert: result.record.route.expert,
        ...(result.record.names ? { names: result.record.names } : {}),
      },
      input.source ?? input.name,
    );
    const encodeMs = opts.now() - started;
    result.record.timings.encodeOutputMs += encodeMs;
    result.record.totalMs += encodeMs;
  }
  return {
    format: "study",
    output: result.output.bytes,
    extension: result.output.extension,
    record: result.record,
    input: result.input,
    labels: result.labels,
    details: `${study.description}; intensities: ${describeMapping(result.mapping)}`,
    ...(dicomSeg ? { dicomSeg } : {}),
    ...(study.geometry && study.spacing
      ? { placement: { geometry: study.geometry, spacing: study.spacing } }
      : {}),
  };
}

/**
 * The label map as a 3D Slicer segmentation (`.seg.nrrd`): one segment per box (named as given, else "box 1",
 * "box 2", …, in the overlay colours), in the input's grid and patient frame; an input without a patient frame
 * (a picture, an .npz case) is placed by its voxel spacing at the origin.
 */
export function slicerSegmentationOf(result: SegmentedInput): Uint8Array {
  return encodeSlicerSegmentation(
    result.labels,
    slicerGridOf(result),
    boxSegments(result.input.boxes.length, result.record.names),
  );
}

function slicerGridOf(result: SegmentedInput): SlicerSegmentationGrid {
  const input = result.input;
  const sizes: [number, number, number] =
    input.kind === "3d"
      ? [input.volume.width, input.volume.height, input.volume.depth]
      : [input.image.width, input.image.height, 1];
  if (result.placement) return { sizes, ...result.placement.geometry };
  const [sz, sy, sx] = input.kind === "3d" ? input.volume.spacing : [1, ...(input.spacing ?? [1, 1])];
  return gridFromSpacing(sizes, [sx, sy, sz]);
}

function notDicom(what: string, input: InputBytes): DaftInputError {
  return new DaftInputError(
    `a DICOM-SEG (--dicom-seg) refers to DICOM source images, but this input is ${what}`,
    input.source ?? input.name,
  );
}

function describeFormat(study: Study): string {
  if (study.format === "nifti") return "NIfTI";
  if (study.format === "nrrd") return "NRRD";
  if (study.format === "metaimage") return "MetaImage";
  return study.format === "picture" ? "a picture" : study.format;
}
