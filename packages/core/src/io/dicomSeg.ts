/**
 * A label map of a DICOM input as a DICOM Segmentation (Segmentation Storage, 1.2.840.10008.5.1.4.1.1.66.4;
 * PS3.3 A.51, C.8.20), BINARY, in the source's study, placed on the source's own slices:
 *
 *  - one segment per label 1..largest label (Segment Number = label = box index + 1; numbers must run 1, 2, 3, …,
 *    so a label with no voxel left is a segment without frames), labelled "box <n>", AUTOMATIC (SEMIAUTOMATIC
 *    after hand corrections, MANUAL without the engine), algorithm "DAFT <expert>", coded as generic tissue (SCT 85756007 "Tissue" for both category and type: the coding
 *    OHIF's dcmjs segmentation export gives its segments, there as SRT T-D0050), shown in the overlay colours
 *    of `daft segment --overlays`;
 *  - one frame per (segment, slice) with at least one voxel, segment-major (see dicomSegFrames.ts);
 *  - per frame: Derivation Image (the source image, purpose DCM 121322, derivation DCM 113076), Frame Content
 *    (Dimension Index Values), Plane Position (the source slice's ImagePositionPatient) and Segment Identification;
 *    shared: Plane Orientation and Pixel Measures; dimensions: Referenced Segment Number, then Image Position;
 *  - Common Instance Reference to every source image; patient and study attributes copied from the source;
 *    new Series and SOP Instance UIDs.
 *
 * A source without a Frame of Reference (a lone 2D image, e.g. an ultrasound frame) gives a SEG without plane
 * position, orientation and pixel measures, every frame tied to the image by a shared Derivation Image group, and
 * one dimension (the segment). A series needs its FrameOfReferenceUID. An empty label map gives no SEG (the
 * standard requires at least one frame); the result says why.
 */
import { DaftInputError } from "../errors.js";
import { objectName } from "../prompts/objectNames.js";
import { labelColour } from "../render/overlay.js";
import { dicomCieLabFromRgb } from "./cieLab.js";
import {
  encodeDicomFile,
  formatDecimalString,
  type DicomDataSet,
  type DicomElement,
} from "./dicomEncoder.js";
import { largestLabel, packBinaryFrames, segmentationFrames, type SegFrame } from "./dicomSegFrames.js";
import type { DicomSource } from "./dicomSource.js";
import { TAG } from "./dicomTagNumbers.js";
import { newDicomUid } from "./dicomUid.js";

export const SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4";
/** DAFT's Implementation Class UID (File Meta), made once as a 2.25 UUID UID. */
export const DAFT_IMPLEMENTATION_CLASS_UID = "2.25.57035944036906969498356275005769400596";

/** Generic coding of a box-prompted object, as OHIF's generic "Tissue" segments (SRT T-D0050 = SCT 85756007). */
export const SEGMENT_CATEGORY = { value: "85756007", scheme: "SCT", meaning: "Tissue" } as const;
export const SEGMENT_TYPE = { value: "85756007", scheme: "SCT", meaning: "Tissue" } as const;
const PURPOSE_SOURCE_IMAGE = {
  value: "121322",
  scheme: "DCM",
  meaning: "Source image for image processing operation",
} as const;
const DERIVATION_SEGMENTATION = { value: "113076", scheme: "DCM", meaning: "Segmentation" } as const;
const SERIES_NUMBER = "1000";

export interface DicomSegOptions {
  /** The expert that made the masks: Segment Algorithm Name "DAFT <expert>". */
  expert: string;
  /**
   * Segment Algorithm Type (PS3.3 C.8.20.2): AUTOMATIC (default: the engine's masks as they are), SEMIAUTOMATIC
   * (the engine's masks corrected by hand, as the web app exports them after brush edits) or MANUAL (painted by
   * hand only: no algorithm is named).
   */
  algorithmType?: "AUTOMATIC" | "SEMIAUTOMATIC" | "MANUAL";
  /** Segment Label of segment n = names[n − 1] (prompts/objectNames.ts); default "box <n>". */
  names?: readonly string[];
  /** Manufacturer's Model Name (0008,1090): the program that wrote the file (default "daft segment"). */
  modelName?: string;
  /** Software Versions (0018,1020). */
  softwareVersion: string;
  /** Content and instance creation date/time, local time (default: now). */
  createdAt?: Date;
  /** New UIDs (default: newDicomUid, 2.25 + random UUID). */
  newUid?: () => string;
}

export type DicomSegResult =
  { written: true; bytes: Uint8Array; segments: number; frames: number } | { written: false; reason: string };

/** The data set of a DICOM-SEG before encoding. */
export interface DicomSegDataSet {
  dataSet: DicomElement[];
  sopInstanceUID: string;
  segments: number;
  frames: SegFrame[];
}

/**
 * The DICOM-SEG of `labels` (C order (slice, row, column), the source's sorted slices) over `source`, encoded as a
 * Part 10 file. Missing source UIDs, and copied attributes the encoder refuses, are DaftInputErrors naming
 * `sourceName`.
 */
export function encodeDicomSeg(
  source: DicomSource,
  labels: Uint16Array,
  options: DicomSegOptions,
  sourceName: string,
): DicomSegResult {
  const built = buildDicomSeg(source, labels, options, sourceName);
  if (!built) {
    return { written: false, reason: "no voxel was segmented, and a DICOM-SEG needs at least one frame" };
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeDicomFile(
      {
        mediaStorageSOPClassUID: SEGMENTATION_STORAGE,
        mediaStorageSOPInstanceUID: built.sopInstanceUID,
        implementationClassUID: DAFT_IMPLEMENTATION_CLASS_UID,
        implementationVersionName: `DAFT_${options.softwareVersion}`.slice(0, 16),
      },
      built.dataSet,
    );
  } catch (error) {
    // A copied attribute the source stored against its VR's rules (the only values not made here).
    throw new DaftInputError(`cannot write its DICOM-SEG: ${(error as Error).message}`, sourceName);
  }
  return { written: true, bytes, segments: built.segments, frames: built.frames.length };
}

/** The SEG's data set, or null when the label map has no voxel. */
export function buildDicomSeg(
  source: DicomSource,
  labels: Uint16Array,
  options: DicomSegOptions,
  sourceName: string,
): DicomSegDataSet | null {
  const plane = source.rows * source.columns;
  const slices = source.slices.length;
  if (plane === 0 || labels.length !== plane * slices) {
    throw new Error(
      `buildDicomSeg: ${labels.length} labels for ${slices} slice(s) of ${source.rows}×${source.columns}`,
    );
  }
  checkDicomSegSource(source, sourceName);
  const segments = largestLabel(labels);
  if (segments === 0) return null;
  const labelSlices = { labels, plane, slices };
  const frames = segmentationFrames(labelSlices, segments);
  const newUid = options.newUid ?? (() => newDicomUid());
  const createdAt = options.createdAt ?? new Date();
  const sopInstanceUID = newUid();
  const dataSet: DicomElement[] = [
    ...patientAndStudy(source),
    ...seriesAndEquipment(source, newUid(), options, createdAt),
    ...segmentationImage(source, sopInstanceUID, createdAt, segments, frames, options),
    ...dimensions(source, newUid()),
    ...functionalGroups(source, frames),
    { tag: TAG.PixelData, vr: "OB", value: packBinaryFrames(labelSlices, frames) },
  ];
  return { dataSet, sopInstanceUID, segments, frames };
}

/** Whether a SEG of this source places its frames in the patient coordinate system. */
function positioned(source: DicomSource): boolean {
  return (
    source.frameOfReferenceUID !== undefined &&
    source.imageOrientationPatient !== undefined &&
    source.slices.every((s) => s.imagePositionPatient !== undefined)
  );
}

/**
 * Refuses (DaftInputError naming `sourceName`) a source a SEG cannot refer to: no StudyInstanceUID,
 * SeriesInstanceUID or SOP Class/Instance UIDs, or a series without a Frame of Reference to place its frames in.
 * Cheap: callers check before segmenting.
 */
export function checkDicomSegSource(source: DicomSource, sourceName: string): void {
  const missing = (what: string) =>
    new DaftInputError(`cannot write a DICOM-SEG: the source has no ${what}`, sourceName);
  if (!source.copied.studyInstanceUID) throw missing("StudyInstanceUID (0020,000D)");
  if (!source.seriesInstanceUID) throw missing("SeriesInstanceUID (0020,000E)");
  if (source.slices.some((s) => !s.sopClassUID || !s.sopInstanceUID)) {
    throw missing("SOPClassUID (0008,0016) or SOPInstanceUID (0008,0018) in every image");
  }
  if (source.slices.length > 1 && !positioned(source)) {
    throw missing("FrameOfReferenceUID (0020,0052), which a series' SEG needs to place its frames");
  }
}

const text = (tag: number, vr: Extract<DicomElement, { value: string | readonly string[] }>["vr"]) => {
  return (value: string | readonly string[]): DicomElement => ({ tag, vr, value });
};
const sequence = (tag: number, ...items: DicomDataSet[]): DicomElement => ({ tag, vr: "SQ", value: items });
const us = (tag: number, ...value: number[]): DicomElement => ({ tag, vr: "US", value });
const decimals = (tag: number, values: readonly number[]): DicomElement => ({
  tag,
  vr: "DS",
  value: values.map(formatDecimalString),
});

function codeItem(code: { value: string; scheme: string; meaning: string }): DicomDataSet {
  return [
    text(TAG.CodeValue, "SH")(code.value),
    text(TAG.CodingSchemeDesignator, "SH")(code.scheme),
    text(TAG.CodeMeaning, "LO")(code.meaning),
  ];
}

/** Patient (C.7.1.1) and General Study (C.7.2.1): copied; type 2 attributes present even when empty. */
function patientAndStudy(source: DicomSource): DicomElement[] {
  const c = source.copied;
  return [
    ...(source.specificCharacterSet
      ? [text(TAG.SpecificCharacterSet, "CS")(source.specificCharacterSet)]
      : []),
    text(TAG.PatientName, "PN")(c.patientName ?? ""),
    text(TAG.PatientID, "LO")(c.patientID ?? ""),
    text(TAG.PatientBirthDate, "DA")(c.patientBirthDate ?? ""),
    text(TAG.PatientSex, "CS")(c.patientSex ?? ""),
    text(TAG.StudyInstanceUID, "UI")(c.studyInstanceUID!),
    text(TAG.StudyDate, "DA")(c.studyDate ?? ""),
    text(TAG.StudyTime, "TM")(c.studyTime ?? ""),
    text(TAG.StudyID, "SH")(c.studyID ?? ""),
    text(TAG.AccessionNumber, "SH")(c.accessionNumber ?? ""),
    text(TAG.ReferringPhysicianName, "PN")(c.referringPhysicianName ?? ""),
  ];
}

/** General and Segmentation Series, Frame of Reference, General and Enhanced General Equipment. */
function seriesAndEquipment(
  source: DicomSource,
  seriesInstanceUID: string,
  options: DicomSegOptions,
  createdAt: Date,
): DicomElement[] {
  const out = [
    text(TAG.Modality, "CS")("SEG"),
    text(TAG.SeriesInstanceUID, "UI")(seriesInstanceUID),
    text(TAG.SeriesNumber, "IS")(SERIES_NUMBER),
    text(TAG.SeriesDate, "DA")(dicomDate(createdAt)),
    text(TAG.SeriesTime, "TM")(dicomTime(createdAt)),
    text(TAG.SeriesDescription, "LO")(`DAFT segmentation (${options.expert})`.slice(0, 64)),
    text(TAG.Manufacturer, "LO")("DAFT"),
    text(TAG.ManufacturerModelName, "LO")(options.modelName ?? "daft segment"),
    text(TAG.DeviceSerialNumber, "LO")("none"),
    text(TAG.SoftwareVersions, "LO")(options.softwareVersion),
  ];
  if (positioned(source)) {
    out.push(text(TAG.FrameOfReferenceUID, "UI")(source.frameOfReferenceUID!));
    out.push(text(TAG.PositionReferenceIndicator, "LO")(""));
  }
  return out;
}

/** SOP Common, General Image, Image Pixel, Segmentation Image (with the segments), Multi-frame FG counts. */
function segmentationImage(
  source: DicomSource,
  sopInstanceUID: string,
  createdAt: Date,
  segments: number,
  frames: readonly SegFrame[],
  options: DicomSegOptions,
): DicomElement[] {
  const algorithmType = options.algorithmType ?? "AUTOMATIC";
  const withFrames = new Set(frames.map((f) => f.segment));
  const segmentItems = Array.from({ length: segments }, (_, i) => {
    const number = i + 1;
    const item: DicomElement[] = [
      us(TAG.SegmentNumber, number),
      text(TAG.SegmentLabel, "LO")(objectName(options.names, number)),
      text(TAG.SegmentAlgorithmType, "CS")(algorithmType),
      // Type 1C: required unless the segment is MANUAL.
      ...(algorithmType === "MANUAL"
        ? []
        : [text(TAG.SegmentAlgorithmName, "LO")(`DAFT ${options.expert}`.slice(0, 64))]),
      sequence(TAG.SegmentedPropertyCategoryCodeSequence, codeItem(SEGMENT_CATEGORY)),
      sequence(TAG.SegmentedPropertyTypeCodeSequence, codeItem(SEGMENT_TYPE)),
      us(TAG.RecommendedDisplayCIELabValue, ...dicomCieLabFromRgb(labelColour(number))),
    ];
    if (!withFrames.has(number)) {
      item.push(
        text(TAG.SegmentDescription, "ST")("no voxel: the box gave an empty mask or later boxes covered it"),
      );
    }
    return item;
  });
  const lossy = source.lossyCompression;
  return [
    text(TAG.ImageType, "CS")(["DERIVED", "PRIMARY"]),
    text(TAG.InstanceCreationDate, "DA")(dicomDate(createdAt)),
    text(TAG.InstanceCreationTime, "TM")(dicomTime(createdAt)),
    text(TAG.SOPClassUID, "UI")(SEGMENTATION_STORAGE),
    text(TAG.SOPInstanceUID, "UI")(sopInstanceUID),
    text(TAG.ContentDate, "DA")(dicomDate(createdAt)),
    text(TAG.ContentTime, "TM")(dicomTime(createdAt)),
    text(TAG.InstanceNumber, "IS")("1"),
    // General Image: required (may be empty) when the image has no ImageOrientationPatient.
    ...(positioned(source) ? [] : [text(TAG.PatientOrientation, "CS")("")]),
    text(TAG.ContentLabel, "CS")("DAFT"),
    text(TAG.ContentDescription, "LO")("Box-prompted segmentation by DAFT"),
    text(TAG.ContentCreatorName, "PN")("DAFT^"),
    us(TAG.SamplesPerPixel, 1),
    text(TAG.PhotometricInterpretation, "CS")("MONOCHROME2"),
    text(TAG.NumberOfFrames, "IS")(String(frames.length)),
    us(TAG.Rows, source.rows),
    us(TAG.Columns, source.columns),
    us(TAG.BitsAllocated, 1),
    us(TAG.BitsStored, 1),
    us(TAG.HighBit, 0),
    us(TAG.PixelRepresentation, 0),
    text(TAG.LossyImageCompression, "CS")(lossy ? "01" : "00"),
    ...(lossy?.ratio ? [text(TAG.LossyImageCompressionRatio, "DS")(lossy.ratio)] : []),
    ...(lossy?.method ? [text(TAG.LossyImageCompressionMethod, "CS")(lossy.method)] : []),
    text(TAG.SegmentationType, "CS")("BINARY"),
    text(TAG.SegmentsOverlap, "CS")("NO"),
    sequence(TAG.SegmentSequence, ...segmentItems),
  ];
}

/** Multi-frame Dimension (C.7.6.17) and Common Instance Reference (C.12.2). */
function dimensions(source: DicomSource, organizationUID: string): DicomElement[] {
  const dimension = (pointer: number, group: number, label: string): DicomDataSet => [
    text(TAG.DimensionOrganizationUID, "UI")(organizationUID),
    { tag: TAG.DimensionIndexPointer, vr: "AT", value: [pointer] },
    { tag: TAG.FunctionalGroupPointer, vr: "AT", value: [group] },
    text(TAG.DimensionDescriptionLabel, "LO")(label),
  ];
  const indices = [
    dimension(TAG.ReferencedSegmentNumber, TAG.SegmentIdentificationSequence, "Segment Number"),
  ];
  if (positioned(source)) {
    indices.push(dimension(TAG.ImagePositionPatient, TAG.PlanePositionSequence, "Image Position Patient"));
  }
  return [
    sequence(TAG.DimensionOrganizationSequence, [text(TAG.DimensionOrganizationUID, "UI")(organizationUID)]),
    sequence(TAG.DimensionIndexSequence, ...indices),
    sequence(TAG.ReferencedSeriesSequence, [
      text(TAG.SeriesInstanceUID, "UI")(source.seriesInstanceUID!),
      sequence(
        TAG.ReferencedInstanceSequence,
        // Each source instance once (the frames of a multi-frame image share theirs).
        ...source.slices
          .filter((s, i) => source.slices.findIndex((o) => o.sopInstanceUID === s.sopInstanceUID) === i)
          .map((s) => [
            text(TAG.ReferencedSOPClassUID, "UI")(s.sopClassUID!),
            text(TAG.ReferencedSOPInstanceUID, "UI")(s.sopInstanceUID!),
          ]),
      ),
    ]),
  ];
}

/**
 * Shared and per-frame functional groups. Placed: orientation and pixel measures shared; derivation, frame content,
 * position and segment per frame. Unplaced (one image, no Frame of Reference): the derivation is shared — every
 * frame comes from the one image, and the shared group must hold something.
 */
function functionalGroups(source: DicomSource, frames: readonly SegFrame[]): DicomElement[] {
  const placed = positioned(source);
  const shared: DicomElement[] = [];
  if (placed) {
    shared.push(
      sequence(TAG.PlaneOrientationSequence, [
        decimals(TAG.ImageOrientationPatient, source.imageOrientationPatient!),
      ]),
    );
    if (source.pixelSpacing) shared.push(pixelMeasures(source, source.pixelSpacing));
  } else {
    shared.push(derivationImage(source, 0));
  }
  const perFrame = frames.map(({ segment, slice }): DicomDataSet => {
    const item: DicomElement[] = [
      sequence(TAG.FrameContentSequence, [
        { tag: TAG.DimensionIndexValues, vr: "UL", value: placed ? [segment, slice + 1] : [segment] },
      ]),
      sequence(TAG.SegmentIdentificationSequence, [us(TAG.ReferencedSegmentNumber, segment)]),
    ];
    if (placed) {
      item.push(derivationImage(source, slice));
      item.push(
        sequence(TAG.PlanePositionSequence, [
          decimals(TAG.ImagePositionPatient, source.slices[slice]!.imagePositionPatient!),
        ]),
      );
    }
    return item;
  });
  return [
    sequence(TAG.SharedFunctionalGroupsSequence, shared),
    sequence(TAG.PerFrameFunctionalGroupsSequence, ...perFrame),
  ];
}

/** Pixel Measures: pixel spacing, slice thickness (else the measured spacing), spacing between slices. */
function pixelMeasures(source: DicomSource, pixelSpacing: readonly number[]): DicomElement {
  const thickness = source.sliceThickness ?? source.sliceSpacing;
  return sequence(TAG.PixelMeasuresSequence, [
    decimals(TAG.PixelSpacing, pixelSpacing),
    ...(thickness !== undefined ? [decimals(TAG.SliceThickness, [thickness])] : []),
    ...(source.sliceSpacing !== undefined ? [decimals(TAG.SpacingBetweenSlices, [source.sliceSpacing])] : []),
  ]);
}

/** Derivation Image: the source image of `slice`, its purpose and the derivation (segmentation). */
function derivationImage(source: DicomSource, slice: number): DicomElement {
  const image = source.slices[slice]!;
  return sequence(TAG.DerivationImageSequence, [
    sequence(TAG.DerivationCodeSequence, codeItem(DERIVATION_SEGMENTATION)),
    sequence(TAG.SourceImageSequence, [
      text(TAG.ReferencedSOPClassUID, "UI")(image.sopClassUID!),
      text(TAG.ReferencedSOPInstanceUID, "UI")(image.sopInstanceUID!),
      ...(image.frameNumber !== undefined
        ? [text(TAG.ReferencedFrameNumber, "IS")(String(image.frameNumber))]
        : []),
      text(TAG.SpatialLocationsPreserved, "CS")("YES"),
      sequence(TAG.PurposeOfReferenceCodeSequence, codeItem(PURPOSE_SOURCE_IMAGE)),
    ]),
  ]);
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** DA: YYYYMMDD, local time. */
export function dicomDate(date: Date): string {
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`;
}

/** TM: HHMMSS.FFF, local time. */
export function dicomTime(date: Date): string {
  return `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
