/**
 * The label map file the page saves, with the user's corrections: the same encoders and the same file name as
 * `daft segment` (packages/node/src/cli/segmentInputs.ts labelMapFileName), so an unedited export is byte-identical
 * to the CLI's output. Challenge .npz inputs may also be saved as a viewer-friendly PNG (2D) or NIfTI (3D), and
 * DICOM inputs as a DICOM-SEG (`daft segment --dicom-seg`'s file, saying whether the masks were corrected by hand),
 * and any input as a 3D Slicer segmentation (`daft segment --slicer-seg`'s `.seg.nrrd`).
 */
import {
  LABEL_MAP_LEVEL,
  largestLabel,
  boxSegments,
  encodeDicomSeg,
  encodeSegmentationNpz,
  encodeSlicerSegmentation,
  encodeStudyLabels,
  gridFromSpacing,
  loadRasterCodecs,
  writeNifti,
} from "@daft/core";
import type { DecodedInput } from "../input/decodeInput.js";

export interface ExportedFile {
  fileName: string;
  bytes: Uint8Array;
  mediaType: string;
}

const KNOWN_SUFFIX = /\.(npz|nii\.gz|nii|nrrd|nhdr|mha|mhd|png|jpe?g|tiff?|bmp|dcm|dicom|ima)$/i;

/** The input's name without its format suffix ("ct.nii.gz" → "ct"); a DICOM series keeps its folder name. */
export function stemOf(caseName: string, kind: "file" | "dicom-series"): string {
  return kind === "dicom-series" ? caseName : caseName.replace(KNOWN_SUFFIX, "");
}

/** `daft segment`'s output name: an .npz keeps its name, anything else is its stem + the output's extension. */
export function labelMapFileName(
  caseName: string,
  kind: "file" | "dicom-series",
  output: { format: "npz" | "study"; extension: string },
): string {
  return `${kind === "file" && output.format === "npz" ? caseName : stemOf(caseName, kind)}${output.extension}`;
}

export function mediaTypeOf(fileName: string): string {
  if (/\.png$/i.test(fileName)) return "image/png";
  if (/\.gz$/i.test(fileName)) return "application/gzip";
  if (/\.npz$/i.test(fileName)) return "application/zip";
  if (/\.dcm$/i.test(fileName)) return "application/dicom";
  return "application/octet-stream";
}

/** The label map in the format `daft segment` writes for this input (NIfTI / PNG / .npz 'segs'). */
export async function exportLabelMap(
  decoded: DecodedInput,
  caseName: string,
  kind: "file" | "dicom-series",
  labels: Uint16Array,
): Promise<ExportedFile> {
  const encoded =
    decoded.kind === "study"
      ? { format: "study" as const, ...(await encodeStudyLabels(decoded.study, labels)) }
      : { format: "npz" as const, bytes: encodeSegmentationNpz(labels, decoded.shape), extension: "" };
  const fileName = labelMapFileName(caseName, kind, encoded);
  return { fileName, bytes: encoded.bytes, mediaType: mediaTypeOf(fileName) };
}

/**
 * A challenge case's labels as a PNG (2D) or a gzipped NIfTI with the case's voxel spacing (3D), for viewers that
 * do not read .npz. Undefined for other inputs (their native export already is PNG or NIfTI). Asynchronous because
 * the PNG encoder is loaded on first use.
 */
export async function exportViewerFriendly(
  decoded: DecodedInput,
  caseName: string,
  labels: Uint16Array,
): Promise<ExportedFile | undefined> {
  if (decoded.kind !== "npz") return undefined;
  const stem = stemOf(caseName, "file");
  const { width, height, depth, spacing } = decoded.display;
  if (decoded.dimension === 2) {
    const max = largestLabel(labels);
    const { encodePng } = await loadRasterCodecs();
    const bytes = encodePng(max <= 255 ? Uint8Array.from(labels) : labels, width, height);
    return { fileName: `${stem}.png`, bytes, mediaType: "image/png" };
  }
  const bytes = writeNifti(labels, [width, height, depth], {
    pixdim: [...spacing],
    gzip: true,
    gzipLevel: LABEL_MAP_LEVEL,
  });
  return { fileName: `${stem}.nii.gz`, bytes, mediaType: "application/gzip" };
}

/** Who made the masks, for the DICOM-SEG's Segment Algorithm Type and Name. */
export interface SegProvenance {
  /** The expert of the last segmentation; undefined when the masks were only painted by hand (MANUAL). */
  expert: string | undefined;
  /** The engine's masks were changed by hand since (SEMIAUTOMATIC). */
  edited: boolean;
  softwareVersion: string;
}

/**
 * A DICOM input's labels as a DICOM Segmentation, named as `daft segment --dicom-seg` names it
 * (`<stem>.seg.dcm`); `{ skipped }` when there is nothing to write (an empty label map), undefined for an input
 * that is not DICOM. Sources missing the UIDs a SEG refers to throw a one-line DaftInputError.
 */
export function exportDicomSeg(
  decoded: DecodedInput,
  caseName: string,
  kind: "file" | "dicom-series",
  labels: Uint16Array,
  provenance: SegProvenance,
  names?: readonly string[],
): ExportedFile | { skipped: string } | undefined {
  if (decoded.kind !== "study" || !decoded.study.dicom) return undefined;
  const algorithmType =
    provenance.expert === undefined ? "MANUAL" : provenance.edited ? "SEMIAUTOMATIC" : "AUTOMATIC";
  const seg = encodeDicomSeg(
    decoded.study.dicom,
    labels,
    {
      expert: provenance.expert ?? "manual",
      algorithmType,
      softwareVersion: provenance.softwareVersion,
      modelName: "daft web app",
      ...(names ? { names } : {}),
    },
    caseName,
  );
  if (!seg.written) return { skipped: seg.reason };
  const fileName = `${stemOf(caseName, kind)}.seg.dcm`;
  return { fileName, bytes: seg.bytes, mediaType: mediaTypeOf(fileName) };
}

/**
 * The labels as a 3D Slicer segmentation, named as `daft segment --slicer-seg` names it (`<stem>.seg.nrrd`): one
 * segment per box (its name, else "box n" = label n; a label painted above the last box gets a segment too), in the input's grid
 * and patient frame (LPS), or placed by its voxel spacing when it has none (pictures, .npz cases).
 */
export function exportSlicerSegmentation(
  decoded: DecodedInput,
  caseName: string,
  kind: "file" | "dicom-series",
  labels: Uint16Array,
  boxCount: number,
  names?: readonly string[],
): ExportedFile {
  const { width, height, depth, spacing } = decoded.display;
  const sizes: [number, number, number] = [width, height, depth];
  const geometry = decoded.kind === "study" ? decoded.study.geometry : undefined;
  const grid = geometry ? { sizes, ...geometry } : gridFromSpacing(sizes, spacing);
  const maxLabel = largestLabel(labels);
  const bytes = encodeSlicerSegmentation(labels, grid, boxSegments(Math.max(boxCount, maxLabel), names));
  const fileName = `${stemOf(caseName, kind)}.seg.nrrd`;
  return { fileName, bytes, mediaType: mediaTypeOf(fileName) };
}
