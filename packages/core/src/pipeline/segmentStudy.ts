/**
 * Clinical inputs through the engine: a decoded Study (NIfTI, DICOM, picture) with user boxes →
 * intensities mapped to the model's uint8 input → voxel boxes → segmentDecodedCase → a label map in the input's
 * own format and geometry. Also the .npz path with boxes given on the command line (overriding the file's).
 */
import { DaftInputError } from "../errors.js";
import {
  chooseIntensityMapping,
  mapIntensities,
  type CtWindow,
  type IntensityMapping,
} from "../image/modelIntensities.js";
import type { NdArray } from "../image/types.js";
import { decodeChallengeCase, encodeSegmentationNpz, type ChallengeCase } from "../io/challengeCase.js";
import type { DicomFile } from "../io/dicom.js";
import { readDicomSegOnto, segmentLabelNames } from "../io/dicomSegRead.js";
import { openNpz } from "../io/npz.js";
import { studyToChallengeCase, type Study } from "../io/study.js";
import { encodeStudyLabels, type EncodedLabels } from "../io/studyLabels.js";
import { boxesFromLabelMap, type LabelMapPrompt } from "../prompts/labelMapBoxes.js";
import { voxelBoxes, type BoxTarget } from "../prompts/voxelBoxes.js";
import { niftiHeaderModality } from "../routing/niftiHeaderRoute.js";
import { modalityFromFileName } from "../routing/route.js";
import { segmentDecodedCase, type CaseRecord, type SegmentCaseOptions } from "./segmentCase.js";

export interface BoxPrompts {
  boxes: number[][];
  /** Boxes are millimetres in the input's physical space (RAS for NIfTI, LPS for DICOM). */
  world: boolean;
  /** Instead of `boxes`: one box per label of this label map, which must lie on the input's grid (--boxes-from). */
  fromLabelMap?: LabelMapPrompt;
  /**
   * Instead of `boxes`: one box per segment of this DICOM-SEG, read onto the input's DICOM series (the frames'
   * source images) as `daft eval` reads one; its Segment Labels name the objects.
   */
  fromDicomSeg?: { seg: DicomFile; file: string };
}

export interface SegmentStudyOptions extends SegmentCaseOptions {
  /** --window: forces a CT window whatever the modality. */
  window?: CtWindow & { name: string };
}

export interface SegmentedStudy {
  output: EncodedLabels;
  record: CaseRecord;
  /** The engine's input (mapped intensities, voxel boxes), e.g. for overlays. */
  input: ChallengeCase;
  labels: Uint16Array;
  mapping: IntensityMapping;
}

export async function segmentStudy(
  name: string,
  study: Study,
  prompts: BoxPrompts,
  opts: SegmentStudyOptions,
): Promise<SegmentedStudy> {
  const started = opts.now();
  const fileRule = modalityFromFileName(opts.manifest, name);
  const headerRule = study.headerText ? niftiHeaderModality(opts.manifest, study.headerText) : null;
  const modality = opts.modality
    ? { name: opts.modality, from: "--modality" }
    : study.modality
      ? { name: study.modality, from: "DICOM Modality" }
      : headerRule
        ? { name: headerRule.modality, from: headerRule.source }
        : fileRule
          ? { name: fileRule.modality, from: "file name" }
          : undefined;
  const mapping = chooseIntensityMapping({
    ...(opts.window ? { window: opts.window } : {}),
    ...(modality ? { modality } : {}),
    eightBit: study.eightBit,
    values: study.values,
  });
  const mapped = mapIntensities(study.values, mapping, study.invert);
  const target = { ...study, what: describeKind(study) };
  const fromMap = prompts.fromDicomSeg ? segOntoStudy(prompts.fromDicomSeg, study) : prompts.fromLabelMap;
  const { boxes, names } = fromMap
    ? boxesFromLabelMap(fromMap, target)
    : { boxes: voxelBoxes(prompts.boxes, target, prompts.world), names: undefined };
  const input = studyToChallengeCase(study, mapped, boxes);
  const prepareMs = opts.now() - started;

  const { labels, record } = await segmentDecodedCase(name, input, {
    ...opts,
    ...(names && !opts.names ? { names } : {}),
    ...(study.modality ? { metadataModality: study.modality } : {}),
    ...(headerRule ? { headerModality: headerRule } : {}),
  });
  const t = opts.now();
  const output = await encodeStudyLabels(study, labels);
  record.timings.decodeInputMs = prepareMs;
  record.timings.encodeOutputMs = opts.now() - t;
  record.totalMs = opts.now() - started;
  return { output, record, input, labels, mapping };
}

/** A challenge .npz whose boxes are replaced by the given voxel boxes (the file's own boxes are not read). */
export async function segmentNpzWithBoxes(
  name: string,
  bytes: Uint8Array,
  prompts: BoxPrompts,
  opts: SegmentCaseOptions,
): Promise<{ output: Uint8Array; record: CaseRecord; input: ChallengeCase; labels: Uint16Array }> {
  const started = opts.now();
  if (prompts.world) {
    throw new DaftInputError(
      "--world needs an input placed in patient space (NIfTI or DICOM); an .npz case has no origin or orientation",
      name,
    );
  }
  if (prompts.fromDicomSeg) {
    throw new DaftInputError(
      `--boxes-from ${prompts.fromDicomSeg.file} is a DICOM-SEG: it is read onto the DICOM series it refers to, and ` +
        "an .npz case is not one",
      name,
    );
  }
  let input: ChallengeCase;
  let names: string[] | undefined;
  try {
    const archive = openNpz(bytes, name);
    const arrays = new Map<string, NdArray>();
    for (const key of ["imgs", "spacing"]) if (archive.has(key)) arrays.set(key, archive.read(key));
    const fromMap = prompts.fromLabelMap
      ? boxesFromLabelMap(prompts.fromLabelMap, npzTarget(name, arrays.get("imgs"), prompts.fromLabelMap))
      : undefined;
    const boxes = fromMap?.boxes ?? prompts.boxes;
    if (fromMap?.names && !opts.names) names = fromMap.names;
    const width = boxes[0]?.length ?? 4;
    arrays.set("boxes", {
      data: Float64Array.from(boxes.flat()),
      shape: [boxes.length, width],
      dtype: "float64",
    });
    input = decodeChallengeCase(arrays, name);
  } catch (e) {
    if (e instanceof DaftInputError) throw e.withSource(name);
    throw new DaftInputError(e instanceof Error ? e.message : String(e), name);
  }
  const decodeMs = opts.now() - started;
  const { labels, shape, record } = await segmentDecodedCase(name, input, names ? { ...opts, names } : opts);
  const t = opts.now();
  const output = encodeSegmentationNpz(labels, shape);
  record.timings.decodeInputMs = decodeMs;
  record.timings.encodeOutputMs = opts.now() - t;
  record.totalMs = opts.now() - started;
  return { output, record, input, labels };
}

/** A DICOM-SEG as a label map on the study's grid: the SEG's frames on the slices of their source images. */
function segOntoStudy(prompt: { seg: DicomFile; file: string }, study: Study): LabelMapPrompt {
  if (!study.dicom) {
    throw new DaftInputError(
      `is a DICOM-SEG: it is read onto the DICOM series it refers to, and ${study.source} is not DICOM`,
      prompt.file,
    );
  }
  const read = readDicomSegOnto(prompt.seg, study.dicom, prompt.file);
  return {
    map: {
      data: read.labels,
      shape: study.dimension === 3 ? [study.depth, study.height, study.width] : [study.height, study.width],
      format: study.format,
      names: segmentLabelNames(read.segments),
    },
    file: prompt.file,
  };
}

/** An .npz case's grid for --boxes-from: 3D when the label map is, else 2D (its 'imgs' may hold RGB). */
function npzTarget(name: string, imgs: NdArray | undefined, prompt: LabelMapPrompt): BoxTarget {
  if (!imgs) throw new DaftInputError("needs an array 'imgs' for boxes from a label map", name);
  const [a = 0, b = 0, c = 0] = imgs.shape;
  return prompt.map.shape.length === 3
    ? { source: name, dimension: 3, depth: a, height: b, width: c, what: "an .npz case" }
    : { source: name, dimension: 2, depth: 1, height: a, width: b, what: "an .npz case" };
}

function describeKind(study: Study): string {
  switch (study.format) {
    case "picture":
      return "a picture";
    case "dicom":
      return "a DICOM image";
    case "dicom-series":
      return "a DICOM series";
    case "nifti":
      return "a NIfTI image";
    case "nrrd":
      return "an NRRD image";
    case "metaimage":
      return "a MetaImage";
  }
}
