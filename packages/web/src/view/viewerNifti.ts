/**
 * The in-memory NIfTI niivue displays, built from the decoded input with the core's NIfTI writer, so nothing
 * leaves the page. Rows are flipped and the affine is a plain voxel-size diagonal (see voxelMapping.ts): the viewer
 * works in the input's voxel grid — the grid the boxes and the engine use — with input row 0 at the top.
 * The exported label map keeps the input's own geometry (io/exportLabels.ts); this volume is only for display.
 */
import { writeNifti, type NiftiData } from "@daft/core";

/** A decoded image for display: C order (z, y, x[, channel]) values, voxel size in mm (x, y, z). */
export interface DisplayImage {
  width: number;
  height: number;
  depth: number;
  channels: 1 | 3;
  values: NiftiData;
  spacing: [number, number, number];
  /** DICOM MONOCHROME1: low values are shown white. */
  invert: boolean;
}

const NIFTI_RGB24 = 128;

/** Copies `values` with the row order of every slice reversed (row length = width × channels). */
export function flipRows<T extends NiftiData>(
  values: T,
  width: number,
  height: number,
  depth: number,
  channels = 1,
): T {
  const out = new (values.constructor as { new (length: number): T })(values.length);
  const row = width * channels;
  for (let z = 0; z < depth; z++) {
    const plane = z * height * row;
    for (let y = 0; y < height; y++) {
      const from = plane + y * row;
      out.set(values.subarray(from, from + row) as never, plane + (height - 1 - y) * row);
    }
  }
  return out;
}

/** NIfTI-1 bytes of the display volume: grey as stored (float64 as float32), RGB as RGB24. */
export function viewerNifti(image: DisplayImage): Uint8Array {
  const { width, height, depth, channels, spacing } = image;
  const values = image.values instanceof Float64Array ? Float32Array.from(image.values) : image.values;
  const flipped = flipRows(values, width, height, depth, channels);
  const affine = [
    [spacing[0], 0, 0, 0],
    [0, spacing[1], 0, 0],
    [0, 0, spacing[2], 0],
    [0, 0, 0, 1],
  ];
  if (channels === 1) return writeNifti(flipped, [width, height, depth], { affine, pixdim: [...spacing] });
  // niivue shows colour as RGB24: wider colour samples (16-bit PNG, NRRD, MetaImage) are scaled to 0..255 for
  // display only (the engine and the export keep the file's values).
  const rgb8 = flipped instanceof Uint8Array ? flipped : scaleToBytes(flipped);
  // The core writer stores bytes; an RGB24 file is the same bytes with 3-byte voxels: fix dim[1], datatype, bitpix.
  const bytes = writeNifti(rgb8, [3 * width, height, depth], { affine, pixdim: [...spacing] });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setInt16(42, width, true);
  view.setInt16(70, NIFTI_RGB24, true);
  view.setInt16(72, 24, true);
  return bytes;
}

/** Linear 0 … largest value → 0 … 255 (the smallest value when it is negative). */
function scaleToBytes(values: NiftiData): Uint8Array {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  low = Math.min(0, low);
  const range = high > low ? high - low : 1;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(((values[i]! - low) / range) * 255);
  return out;
}
