/**
 * What a DICOM input keeps for objects derived from it (DICOM-SEG): the instances of every sorted slice, the
 * patient and study attributes to copy, and the plane geometry as the source states it. Kept as read — a missing
 * attribute stays undefined here; whoever writes a derived object decides what it needs.
 */
import type { Vec3 } from "../image/geometry.js";
import type { DicomFile, DicomTags } from "./dicom.js";

/** One source image, in the study's slice order (sorted along the normal for a series). */
export interface DicomSourceSlice {
  sopClassUID?: string;
  sopInstanceUID?: string;
  /** The frame (1-based) of a multi-frame source image this slice is; absent for single-frame images. */
  frameNumber?: number;
  imagePositionPatient?: Vec3;
}

/** Patient (C.7.1.1) and General Study (C.7.2.1) attributes a derived object copies, as stored. */
export const COPIED_DICOM_ATTRIBUTES = [
  "patientName",
  "patientID",
  "patientBirthDate",
  "patientSex",
  "studyInstanceUID",
  "studyDate",
  "studyTime",
  "studyID",
  "accessionNumber",
  "referringPhysicianName",
] as const satisfies readonly (keyof DicomTags)[];

export type CopiedDicomAttribute = (typeof COPIED_DICOM_ATTRIBUTES)[number];

export interface DicomSource {
  slices: DicomSourceSlice[];
  seriesInstanceUID?: string;
  /** The copied attributes, from the first sorted slice. */
  copied: Partial<Record<CopiedDicomAttribute, string>>;
  /** The character set of the copied text (absent: the default repertoire). */
  specificCharacterSet?: string;
  frameOfReferenceUID?: string;
  imageOrientationPatient?: [number, number, number, number, number, number];
  /** Row spacing, column spacing in mm. */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  /** Distance between neighbouring slices along the normal, measured from their positions (series only). */
  sliceSpacing?: number;
  rows: number;
  columns: number;
  /** Present when some source image says it was lossy compressed ("01"), with that image's ratio and method. */
  lossyCompression?: { ratio?: string; method?: string };
}

/**
 * The DicomSource of `sorted` (a series' slices in slice order, or one image); `frameNumbers` when the slices are
 * the frames of one enhanced multi-frame image (each slice's 1-based frame in it).
 */
export function dicomSourceOf(
  sorted: DicomFile[],
  sliceSpacing?: number,
  frameNumbers?: number[],
): DicomSource {
  const first = sorted[0]!.tags;
  const copied: DicomSource["copied"] = {};
  for (const key of COPIED_DICOM_ATTRIBUTES) {
    const value = first[key];
    if (value !== undefined) copied[key] = value;
  }
  const source: DicomSource = {
    slices: sorted.map(({ tags }, k) => ({
      ...(tags.sopClassUID ? { sopClassUID: tags.sopClassUID } : {}),
      ...(tags.sopInstanceUID ? { sopInstanceUID: tags.sopInstanceUID } : {}),
      ...(frameNumbers ? { frameNumber: frameNumbers[k]! } : {}),
      ...(tags.imagePositionPatient ? { imagePositionPatient: tags.imagePositionPatient } : {}),
    })),
    copied,
    rows: first.rows ?? 0,
    columns: first.columns ?? 0,
  };
  if (first.seriesInstanceUID) source.seriesInstanceUID = first.seriesInstanceUID;
  if (first.specificCharacterSet) source.specificCharacterSet = first.specificCharacterSet;
  if (first.frameOfReferenceUID) source.frameOfReferenceUID = first.frameOfReferenceUID;
  if (first.imageOrientationPatient) source.imageOrientationPatient = first.imageOrientationPatient;
  if (first.pixelSpacing) source.pixelSpacing = first.pixelSpacing;
  if (first.sliceThickness && first.sliceThickness > 0) source.sliceThickness = first.sliceThickness;
  if (sliceSpacing !== undefined) source.sliceSpacing = sliceSpacing;
  const lossy = sorted.find(({ tags }) => tags.lossyImageCompression === "01")?.tags;
  if (lossy) {
    source.lossyCompression = {
      ...(lossy.lossyImageCompressionRatio ? { ratio: lossy.lossyImageCompressionRatio } : {}),
      ...(lossy.lossyImageCompressionMethod ? { method: lossy.lossyImageCompressionMethod } : {}),
    };
  }
  return source;
}
