/**
 * The frames of a BINARY DICOM-SEG from a label map, and their pixel data.
 *
 * A frame is one (segment, slice) pair holding at least one voxel of the segment; frames are ordered by segment,
 * then slice. Pixel data packs one bit per pixel, the first pixel in the least significant bit of the first byte
 * (PS3.5 8.1.1), frame after frame with no padding between frames — a frame whose pixel count is not a multiple
 * of 8 ends inside a byte, and the next frame starts at the following bit. The whole value is padded with zero
 * bits to an even number of bytes.
 */

export interface SegFrame {
  /** Segment number = label value. */
  segment: number;
  /** Slice index in the label map (sorted source slice). */
  slice: number;
}

/** Labels in C order (slice, row, column) with `plane` = rows × columns pixels per slice. */
export interface LabelSlices {
  labels: Uint16Array;
  plane: number;
  slices: number;
}

/** Every (segment, slice) pair of segments 1..`segments` with at least one voxel, segment-major. */
export function segmentationFrames({ labels, plane, slices }: LabelSlices, segments: number): SegFrame[] {
  const present = new Uint8Array(slices * (segments + 1));
  for (let k = 0; k < slices; k++) {
    const row = k * (segments + 1);
    const start = k * plane;
    for (let p = start; p < start + plane; p++) {
      const label = labels[p]!;
      if (label !== 0 && label <= segments) present[row + label] = 1;
    }
  }
  const frames: SegFrame[] = [];
  for (let segment = 1; segment <= segments; segment++) {
    for (let slice = 0; slice < slices; slice++) {
      if (present[slice * (segments + 1) + segment]) frames.push({ segment, slice });
    }
  }
  return frames;
}

/** The largest label in the map (0: no voxel). */
export function largestLabel(labels: Uint16Array): number {
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  return max;
}

/** Bit-packed pixel data of `frames`: pixel p of frame f is bit f × plane + p, LSB first; even byte count. */
export function packBinaryFrames({ labels, plane }: LabelSlices, frames: readonly SegFrame[]): Uint8Array {
  const bits = frames.length * plane;
  const bytes = Math.ceil(bits / 8);
  const out = new Uint8Array(bytes + (bytes % 2));
  frames.forEach(({ segment, slice }, f) => {
    const source = slice * plane;
    let bit = f * plane;
    for (let p = 0; p < plane; p++, bit++) {
      if (labels[source + p] === segment) out[Math.floor(bit / 8)]! |= 1 << (bit % 8);
    }
  });
  return out;
}
