/**
 * The label map of a segmented Study, written so that viewers overlay it exactly on the input:
 *   - NIfTI input → NIfTI of the same version and byte order, its header copied (dims, pixdim, qform and sform with
 *     their codes, units), datatype uint16, scl_slope 1 / scl_inter 0, intent NIFTI_INTENT_LABEL, extensions
 *     dropped; gzip-compressed when the input was;
 *   - NRRD input → NRRD in the input's grid and patient space (sizes, space, directions, origin or spacings),
 *     uint16, gzip-encoded when the input was;
 *   - MetaImage input → .mha with the input's sizes, spacing, offset, direction matrix and orientation, uint16,
 *     zlib-compressed when the input was;
 *   - DICOM input → .nii.gz, NIfTI-1 with the series' LPS affine turned into RAS (x and y negated) as both sform
 *     and qform (code 1, scanner), uint16;
 *   - pictures → a single-channel PNG, 8-bit when every label fits (≤ 255 boxes), else 16-bit.
 * Labels are box index + 1 (later boxes on top), 0 background, in the input's own voxel order.
 */
import { gzip, LABEL_MAP_LEVEL } from "./gzip.js";
import { concatBytes } from "./zipCodec.js";
import { flipXY, quaternionFromAffine } from "../image/geometry.js";
import { niftiParts } from "./nifti.js";
import { PLATFORM_LITTLE_ENDIAN } from "./byteOrder.js";
import { encodeMetaImageLabels } from "./metaImageStudy.js";
import { encodeNrrdLabels } from "./nrrdStudy.js";
import { loadRasterCodecs } from "./codecModules.js";
import type { NiftiSource, Study } from "./study.js";

export interface EncodedLabels {
  bytes: Uint8Array;
  /** ".nii", ".nii.gz", ".nrrd", ".mha" or ".png". */
  extension: string;
}

const NIFTI_INTENT_LABEL = 1002;
const UINT16 = 512;
const DESCRIPTION = "daft segment label map";

/** Asynchronous because a picture's PNG encoder is loaded on first use (codecModules). */
export async function encodeStudyLabels(study: Study, labels: Uint16Array): Promise<EncodedLabels> {
  const voxels = study.width * study.height * study.depth;
  if (labels.length !== voxels) {
    throw new Error(`encodeStudyLabels: ${labels.length} labels for ${voxels} voxels of ${study.source}`);
  }
  if (study.format === "picture") {
    const max = largestLabel(labels);
    const data = max <= 255 ? Uint8Array.from(labels) : labels;
    const { encodePng } = await loadRasterCodecs();
    return { bytes: encodePng(data, study.width, study.height), extension: ".png" };
  }
  if (study.nifti) {
    const parts = niftiLikeInput(study.nifti, labels);
    return study.nifti.gzip
      ? { bytes: gzip(parts, LABEL_MAP_LEVEL), extension: ".nii.gz" }
      : { bytes: concatBytes(parts), extension: ".nii" };
  }
  if (study.nrrd) return { bytes: encodeNrrdLabels(study.nrrd, labels), extension: ".nrrd" };
  if (study.metaImage) return { bytes: encodeMetaImageLabels(study.metaImage, labels), extension: ".mha" };
  if (!study.geometry) throw new Error(`encodeStudyLabels: ${study.source} has no geometry`);
  const ras = flipXY(study.geometry.affine);
  const [header, body] = niftiParts(labels, [study.width, study.height, study.depth], { affine: ras });
  setQform(header, ras);
  setLabelFields(new DataView(header.buffer, header.byteOffset, header.byteLength), 1, true, labels);
  return { bytes: gzip([header, body], LABEL_MAP_LEVEL), extension: ".nii.gz" };
}

/**
 * The input's header with the data fields changed for uint16 labels, and the labels in the input's byte order:
 * two parts, so that a .nii.gz deflates them without joining them first (the body is a view of the labels where
 * the byte orders agree).
 */
function niftiLikeInput(source: NiftiSource, labels: Uint16Array): [header: Uint8Array, body: Uint8Array] {
  const headerSize = source.version === 1 ? 348 : 540;
  const dataOffset = headerSize + 4; // header + 4-byte extender (no extensions), a multiple of 16 for NIfTI-2
  const header = new Uint8Array(dataOffset);
  header.set(source.header.subarray(0, headerSize), 0);
  const view = new DataView(header.buffer);
  const le = source.littleEndian;
  if (source.version === 1) {
    view.setInt16(70, UINT16, le);
    view.setInt16(72, 16, le);
    view.setFloat32(108, dataOffset, le);
  } else {
    view.setInt16(12, UINT16, le);
    view.setInt16(14, 16, le);
    view.setBigInt64(168, BigInt(dataOffset), le);
  }
  setLabelFields(view, source.version, le, labels);
  const data = new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength);
  if (le === PLATFORM_LITTLE_ENDIAN) return [header, data];
  const swapped = new Uint8Array(labels.byteLength);
  const swappedView = new DataView(swapped.buffer);
  for (let i = 0; i < labels.length; i++) swappedView.setUint16(2 * i, labels[i]!, le);
  return [header, swapped];
}

/** The largest value of a label map (0 when empty): a plain loop, a volume's reduce took a second. */
export function largestLabel(labels: Uint16Array): number {
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  return max;
}

/** scl_slope 1, scl_inter 0, cal_min 0, cal_max = largest label, intent label, description, no aux file. */
function setLabelFields(view: DataView, version: 1 | 2, le: boolean, labels: Uint16Array): void {
  const max = largestLabel(labels);
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const text = (at: number, length: number, value: string) => {
    bytes.fill(0, at, at + length);
    for (let i = 0; i < Math.min(value.length, length - 1); i++) bytes[at + i] = value.charCodeAt(i);
  };
  if (version === 1) {
    view.setInt16(68, NIFTI_INTENT_LABEL, le);
    view.setFloat32(56, 0, le); // intent_p1..p3
    view.setFloat32(60, 0, le);
    view.setFloat32(64, 0, le);
    view.setFloat32(112, 1, le);
    view.setFloat32(116, 0, le);
    view.setFloat32(124, max, le); // cal_max
    view.setFloat32(128, 0, le); // cal_min
    text(148, 80, DESCRIPTION);
    text(228, 24, "");
    text(328, 16, "labels"); // intent_name
  } else {
    view.setInt32(504, NIFTI_INTENT_LABEL, le);
    for (const at of [80, 88, 96]) view.setFloat64(at, 0, le);
    view.setFloat64(176, 1, le);
    view.setFloat64(184, 0, le);
    view.setFloat64(192, max, le);
    view.setFloat64(200, 0, le);
    text(240, 80, DESCRIPTION);
    text(320, 24, "");
    text(508, 16, "labels");
  }
  // The extender after the header: no extensions follow.
  const headerSize = version === 1 ? 348 : 540;
  bytes.fill(0, headerSize, headerSize + 4);
}

/** NIfTI-1 qform (code 1) from the affine, alongside writeNifti's sform. */
function setQform(bytes: Uint8Array, affine: number[][]): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = quaternionFromAffine(affine);
  view.setInt16(252, 1, true);
  view.setFloat32(256, q.b, true);
  view.setFloat32(260, q.c, true);
  view.setFloat32(264, q.d, true);
  q.offset.forEach((v, i) => view.setFloat32(268 + 4 * i, v, true));
  view.setFloat32(76, q.qfac, true);
  q.pixdim.forEach((v, i) => view.setFloat32(80 + 4 * i, v, true));
}
