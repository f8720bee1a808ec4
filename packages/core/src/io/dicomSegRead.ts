/**
 * A DICOM Segmentation (SEG, PS3.3 A.51) read back onto the DICOM series it was made from: one label map in the
 * series' sorted slice grid, label = segment number (a voxel in several segments takes the later frame's).
 *
 * Each frame names its segment (Segment Identification Sequence) and is placed on a slice of the series by its
 * source image (Derivation Image → Source Image Sequence: the Referenced SOP Instance UID, and the Referenced Frame
 * Number for an enhanced multi-frame source), or else by its Plane Position: the slice at the same distance along
 * the series' normal, within half a slice spacing. BINARY frames are bits packed across frame boundaries (PS3.5
 * 8.1.1); FRACTIONAL frames are bytes, a pixel belonging to the segment above half the maximum fractional value.
 */
import { DaftInputError } from "../errors.js";
import { crossProduct, dotProduct, type Vec3 } from "../image/geometry.js";
import type { DicomFile, FrameGroupTags } from "./dicom.js";
import { SEGMENTATION_STORAGE } from "./dicomSeg.js";
import type { DicomSource } from "./dicomSource.js";

export interface DicomSegLabels {
  /** C order (slice, row, column) of the series' sorted slices. */
  labels: Uint16Array;
  /** Segment number → label (SegmentLabel), in the Segment Sequence's order. */
  segments: { number: number; label?: string }[];
  frames: number;
}

/** What a SEG calls label n (its segment n's Segment Label): names[n − 1], a hole where a segment has none. */
export function segmentLabelNames(segments: DicomSegLabels["segments"]): (string | undefined)[] {
  const names: (string | undefined)[] = [];
  for (const { number, label } of segments) names[number - 1] = label;
  return names;
}

export function readDicomSegOnto(seg: DicomFile, series: DicomSource, source: string): DicomSegLabels {
  const fail = (problem: string): never => {
    throw new DaftInputError(`DICOM-SEG: ${problem}`, source);
  };
  const t = seg.tags;
  if ((seg.mediaStorageSOPClassUID ?? t.sopClassUID) !== SEGMENTATION_STORAGE)
    fail(`not a Segmentation Storage object (SOP class ${t.sopClassUID ?? "missing"})`);
  const type = t.segmentationType ?? fail("no Segmentation Type (0062,0001)");
  if (type !== "BINARY" && type !== "FRACTIONAL")
    fail(`Segmentation Type ${type} is not BINARY or FRACTIONAL`);
  const rows = t.rows ?? fail("no Rows");
  const columns = t.columns ?? fail("no Columns");
  if (rows !== series.rows || columns !== series.columns) {
    fail(
      `frames are ${columns}×${rows} (columns × rows), the series' images ${series.columns}×${series.rows}; ` +
        "a SEG on another grid is not read",
    );
  }
  if (
    t.frameOfReferenceUID &&
    series.frameOfReferenceUID &&
    t.frameOfReferenceUID !== series.frameOfReferenceUID
  )
    fail("its Frame of Reference is not the series'");
  const frames = t.numberOfFrames ?? 1;
  const perFrame = t.perFrameFunctionalGroups ?? [];
  if (perFrame.length !== frames)
    fail(`${frames} frames but ${perFrame.length} Per-Frame Functional Groups items`);
  const px = seg.pixelData ?? fail("no Pixel Data");
  if (px.encapsulated) fail(`compressed pixel data (${seg.transferSyntax.name}) is not read in a SEG`);
  const plane = rows * columns;
  const bits = type === "BINARY" ? 1 : 8;
  if ((t.bitsAllocated ?? bits) !== bits)
    fail(`${type} frames need Bits Allocated ${bits}, the header says ${t.bitsAllocated}`);
  const needed = Math.ceil((frames * plane * bits) / 8);
  if (px.length < needed) fail(`Pixel Data holds ${px.length} bytes, ${needed} needed for ${frames} frames`);
  const pixels = seg.bytes.subarray(px.offset, px.offset + px.length);
  const threshold = (t.maximumFractionalValue ?? 255) / 2;
  const segments = t.segments ?? [];
  const known = new Set(segments.map((s) => s.number));

  const slices = series.slices.length;
  const labels = new Uint16Array(slices * plane);
  const place = slicePlacer(series, fail);
  perFrame.forEach((group, f) => {
    const segment = group.referencedSegmentNumber ?? t.sharedFunctionalGroups?.referencedSegmentNumber;
    if (segment === undefined) fail(`frame ${f + 1} names no segment (Segment Identification Sequence)`);
    if (segment! < 1 || segment! > 0xffff || (known.size > 0 && !known.has(segment!)))
      fail(`frame ${f + 1} refers to segment ${segment}, which the Segment Sequence does not hold`);
    const k = place(group, f);
    const out = k * plane;
    if (bits === 1) {
      for (let p = 0, bit = f * plane; p < plane; p++, bit++) {
        if ((pixels[bit >> 3]! >> (bit & 7)) & 1) labels[out + p] = segment!;
      }
    } else {
      for (let p = 0, i = f * plane; p < plane; p++, i++)
        if (pixels[i]! > threshold) labels[out + p] = segment!;
    }
  });
  return { labels, segments, frames };
}

/** Which sorted slice a frame lies on: by its source image, else by its position along the series' normal. */
function slicePlacer(series: DicomSource, fail: (problem: string) => never) {
  const byInstance = new Map<string, number>();
  series.slices.forEach((slice, k) => {
    if (slice.sopInstanceUID) byInstance.set(`${slice.sopInstanceUID}#${slice.frameNumber ?? 1}`, k);
  });
  const orientation = series.imageOrientationPatient;
  const normal = orientation
    ? crossProduct(orientation.slice(0, 3) as Vec3, orientation.slice(3) as Vec3)
    : undefined;
  const along = series.slices.map((s) =>
    normal && s.imagePositionPatient ? dotProduct(s.imagePositionPatient, normal) : undefined,
  );
  const tolerance = (series.sliceSpacing ?? series.sliceThickness ?? 1) / 2;
  return (group: FrameGroupTags, f: number): number => {
    const uid = group.referencedSOPInstanceUID;
    if (uid) {
      const k = byInstance.get(`${uid}#${group.referencedFrameNumber ?? 1}`);
      if (k !== undefined) return k;
    }
    const position = group.imagePositionPatient;
    if (normal && position) {
      const d = dotProduct(position, normal);
      let best = -1;
      let distance = Infinity;
      along.forEach((a, k) => {
        if (a !== undefined && Math.abs(a - d) < distance) [best, distance] = [k, Math.abs(a - d)];
      });
      if (best >= 0 && distance <= tolerance) return best;
    }
    return fail(
      `frame ${f + 1} lies on no slice of this series (` +
        (uid ? `source image ${uid} is not in it` : "no source image") +
        (position ? `, and its position matches no slice` : "") +
        ")",
    );
  };
}
