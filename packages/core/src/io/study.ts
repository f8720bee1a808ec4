/**
 * A clinical input — NIfTI volume, DICOM series or image, or a picture — decoded into scanner values plus the
 * geometry needed to write a label map back in the input's own voxel order, and turned into the engine's
 * ChallengeCase once its intensities are mapped to uint8 and its boxes are known.
 *
 * Axis convention everywhere: voxel (i, j, k) = (x, y, z) = (column, row, slice); `values` are C-order
 * (z, y, x[, channel]) — the same memory as NIfTI's Fortran-order (x, y, z) data, which is therefore used as is.
 */
import { gunzip } from "./gzip.js";
import { DaftInputError } from "../errors.js";
import type { IntensityData } from "../dataset/intensity.js";
import type { Affine, WorldSpace } from "../image/geometry.js";
import type { NdArray } from "../image/types.js";
import { decodeChallengeCase, type ChallengeCase } from "./challengeCase.js";
import type { DicomSource } from "./dicomSource.js";
import { isMetaImage } from "./metaImage.js";
import { readNifti, toZyxVolume, type NiftiHeaderText } from "./nifti.js";
import type { MetaImageSource } from "./metaImageStudy.js";
import type { NrrdSource } from "./nrrdStudy.js";
import { loadRasterCodecs } from "./codecModules.js";
import { sniffRasterFormat, toGreyOrRgb } from "./rasterFormat.js";

export type StudyFormat = "nifti" | "nrrd" | "metaimage" | "dicom-series" | "dicom" | "picture";

export interface StudyGeometry {
  /** Voxel (i, j, k) → world millimetres, 4x4 row-major. */
  affine: Affine;
  /** The frame `affine` maps into: RAS for NIfTI, LPS for DICOM. */
  space: WorldSpace;
  /** False when the file has no patient position (a DICOM image without ImagePositionPatient): the affine only
   * scales by the pixel spacing, and world-coordinate boxes are refused. */
  positioned: boolean;
}

/** The NIfTI header a label map copies, as stored (uncompressed). */
export interface NiftiSource {
  header: Uint8Array;
  version: 1 | 2;
  littleEndian: boolean;
  gzip: boolean;
  dims: number[];
}

export interface Study {
  format: StudyFormat;
  /** The file or folder, for messages. */
  source: string;
  /** 2: one plane (pictures, 2D DICOM images, NIfTI with one slice); 3: a volume. */
  dimension: 2 | 3;
  width: number;
  height: number;
  depth: number;
  channels: 1 | 3;
  /** Scanner values (after rescale slope/intercept), C order (z, y, x[, channel]). */
  values: IntensityData;
  /** Values are 8-bit unsigned as stored (no rescale): the model may take them as they are. */
  eightBit: boolean;
  /** DICOM MONOCHROME1: low values are displayed white. */
  invert: boolean;
  /** Voxel size in mm, (z, y, x); absent for pictures. */
  spacing?: [number, number, number];
  /** Physical geometry; absent for pictures. */
  geometry?: StudyGeometry;
  /** DICOM Modality (0008,0060). */
  modality?: string;
  /** NIfTI header text fields (descrip, intent_name, aux_file), for routing by header. */
  headerText?: NiftiHeaderText;
  /** Present for NIfTI input: the header the label map copies. */
  nifti?: NiftiSource;
  /** Present for NRRD input: the grid and placement the label map copies. */
  nrrd?: NrrdSource;
  /** Present for MetaImage input: the grid and placement the label map copies. */
  metaImage?: MetaImageSource;
  /** Present for DICOM input: the source instances and attributes a DICOM-SEG refers to and copies. */
  dicom?: DicomSource;
  /** A 3D Slicer segmentation's segment names: label n = segmentNames[n − 1]. */
  segmentNames?: string[];
  /** One-line description for --explain. */
  description: string;
}

export type SniffedFormat = "npz" | "nifti" | "nrrd" | "metaimage" | "dicom" | "picture";

/** The input format by content (never by extension), or undefined. */
export function sniffInputFormat(bytes: Uint8Array): SniffedFormat | undefined {
  if (isDicomPart10(bytes)) return "dicom";
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05)) return "npz";
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "nifti"; // gzip: .nii.gz
  if (isNrrd(bytes)) return "nrrd";
  if (isMetaImage(bytes)) return "metaimage";
  if (bytes.length >= 4) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const le of [true, false]) {
      const size = view.getInt32(0, le);
      if (size === 348 || size === 540) return "nifti";
    }
  }
  if (sniffRasterFormat(bytes)) return "picture";
  return undefined;
}

/** "NRRD000" + a version digit: the NRRD magic. */
export function isNrrd(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(0, 7)) === "NRRD000";
}

/** A DICOM Part 10 file: "DICM" after the 128-byte preamble. */
export function isDicomPart10(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

/** A .nii or .nii.gz file. NIfTI with one slice (or rank 2) is a 2D study; extra axes must have size 1. */
export function decodeNiftiStudy(fileBytes: Uint8Array, source: string): Study {
  const gzip = fileBytes[0] === 0x1f && fileBytes[1] === 0x8b;
  let bytes = fileBytes;
  if (gzip) {
    try {
      bytes = gunzip(fileBytes);
    } catch (error) {
      throw new DaftInputError(`corrupt or truncated gzip stream (${(error as Error).message})`, source);
    }
  }
  const nifti = readNifti(bytes, source, { owned: gzip });
  const { array, spacing } = toZyxVolume(nifti, source);
  const [depth, height, width] = array.shape as [number, number, number];
  const headerSize = nifti.version === 1 ? 348 : 540;
  const space = nifti.sformCode > 0 ? "sform" : nifti.qformCode > 0 ? "qform" : "pixdim only";
  return {
    format: "nifti",
    source,
    dimension: depth === 1 ? 2 : 3,
    width,
    height,
    depth,
    channels: 1,
    values: nifti.data,
    eightBit: nifti.datatype === "uint8" && !nifti.scaled,
    invert: false,
    spacing,
    geometry: { affine: nifti.affine, space: "RAS", positioned: true },
    headerText: nifti.text,
    nifti: {
      header: bytes.slice(0, headerSize),
      version: nifti.version,
      littleEndian: nifti.littleEndian,
      gzip,
      dims: nifti.dims,
    },
    description:
      `NIfTI-${nifti.version} ${nifti.dims.join("×")} ${nifti.datatype}${nifti.scaled ? " (scaled)" : ""}, ` +
      `spacing ${formatSpacing(spacing)} mm (z,y,x), affine from ${space}`,
  };
}

/** A PNG, JPEG, TIFF or BMP picture: grey or RGB (alpha dropped), 8 or 16 bits. Loads the picture decoders. */
export async function decodePictureStudy(bytes: Uint8Array, source: string): Promise<Study> {
  const format = sniffRasterFormat(bytes) ?? "picture";
  const { decodeRaster } = await loadRasterCodecs();
  const image = toGreyOrRgb(decodeRaster(bytes, source));
  return {
    format: "picture",
    source,
    dimension: 2,
    width: image.width,
    height: image.height,
    depth: 1,
    channels: image.channels,
    values: image.data,
    eightBit: image.bitDepth === 8,
    invert: false,
    description: `${format.toUpperCase()} ${image.width}×${image.height}, ${image.channels === 1 ? "grey" : "RGB"}, ${image.bitDepth}-bit`,
  };
}

/**
 * The engine's case: the mapped uint8 image and voxel boxes (inclusive max corners), validated exactly like a
 * challenge .npz (boxes inside the image, not inverted, at most 1000).
 */
export function studyToChallengeCase(study: Study, mapped: Uint8Array, boxes: number[][]): ChallengeCase {
  const width = study.dimension === 3 ? 6 : 4;
  const imgsShape =
    study.dimension === 3
      ? [study.depth, study.height, study.width]
      : study.channels === 3
        ? [study.height, study.width, 3]
        : [study.height, study.width];
  const arrays = new Map<string, NdArray>([
    ["imgs", { data: mapped, shape: imgsShape, dtype: "uint8" }],
    ["boxes", { data: Float64Array.from(boxes.flat()), shape: [boxes.length, width], dtype: "float64" }],
  ]);
  const spacing = study.dimension === 3 ? study.spacing : study.spacing?.slice(1);
  if (spacing)
    arrays.set("spacing", { data: Float64Array.from(spacing), shape: [spacing.length], dtype: "float64" });
  return decodeChallengeCase(arrays, study.source);
}

export function formatSpacing(spacing: readonly number[]): string {
  return spacing.map((v) => Number(v.toPrecision(6))).join("×");
}
