/**
 * A label map file opened onto the image in the page — a `daft segment` output to review, a reference to correct, a
 * 3D Slicer segmentation — so its masks can be corrected, re-segmented and exported like the engine's. It is read
 * with `daft eval`'s reader (NIfTI, NRRD and `.seg.nrrd`, MetaImage, PNG, a challenge .npz's 'segs' or 'gts') and
 * must lie on the image's voxel grid (same shape; same placement when both are in patient space). A DICOM-SEG is
 * read onto the DICOM series it was made from, its frames placed by source image or position (readDicomSegOnto). Label values
 * become box numbers in increasing order (1, 2, 4 → boxes 1, 2, 3), and each box is its label's bounding box, so
 * pressing Segment re-segments every object.
 */
import {
  checkSameGrid,
  DaftInputError,
  flipXY,
  openNpz,
  readDicom,
  readDicomSegOnto,
  readLabelMapFile,
  SEGMENTATION_STORAGE,
  type LabelMapArray,
} from "@daft/core";
import type { DecodedInput } from "../input/decodeInput.js";
import type { VoxelBox } from "./editHistory.js";
import { MAX_LABEL } from "./labelLayer.js";

export interface OpenedLabelMap {
  /** Box number per voxel, the page's label map. */
  labels: Uint16Array;
  /** Box n = the bounding box of label n's voxels. */
  boxes: VoxelBox[];
  /** For the status line: what was read and how its values were numbered. */
  note: string;
}

/** The image a label map is opened onto. */
export interface LabelTarget {
  decoded: DecodedInput;
  name: string;
  dimension: 2 | 3;
}

export function openLabelMap(bytes: Uint8Array, fileName: string, target: LabelTarget): OpenedLabelMap {
  const data = isDicom(bytes) ? dicomSegValues(bytes, fileName, target) : gridValues(bytes, fileName, target);
  return boxesOf(data, fileName, target);
}

function isDicom(bytes: Uint8Array): boolean {
  return bytes.length > 132 && String.fromCharCode(...bytes.subarray(128, 132)) === "DICM";
}

/** A DICOM-SEG's labels on the open DICOM series' sorted slices. */
function dicomSegValues(bytes: Uint8Array, fileName: string, target: LabelTarget): ArrayLike<number> {
  const file = readDicom(bytes, fileName);
  if ((file.mediaStorageSOPClassUID ?? file.tags.sopClassUID) !== SEGMENTATION_STORAGE)
    throw new DaftInputError("is a DICOM file but not a DICOM-SEG; a label map is read from a SEG", fileName);
  const dicom = target.decoded.kind === "study" ? target.decoded.study.dicom : undefined;
  if (!dicom) {
    throw new DaftInputError(
      `is a DICOM-SEG; it is read onto the DICOM series it refers to, and ${target.name} is not DICOM`,
      fileName,
    );
  }
  return readDicomSegOnto(file, dicom, fileName).labels;
}

/** Any other label map file, which must lie on the image's grid. */
function gridValues(bytes: Uint8Array, fileName: string, target: LabelTarget): ArrayLike<number> {
  const read = readLabels(bytes, fileName);
  const { width, height, depth } = target.decoded.display;
  const imageShape = target.dimension === 3 ? [depth, height, width] : [height, width];
  // A 2D image's label map saved as a volume of one slice (a Slicer segmentation of a picture) is that slice.
  const shape =
    target.dimension === 2 && read.shape.length === 3 && read.shape[0] === 1
      ? read.shape.slice(1)
      : read.shape;
  const geometry = target.decoded.kind === "study" ? target.decoded.study.geometry : undefined;
  const image: LabelMapArray = {
    data: [],
    shape: imageShape,
    format: target.decoded.kind === "study" ? target.decoded.study.format : "npz",
    ...(geometry?.positioned
      ? { rasAffine: geometry.space === "LPS" ? flipXY(geometry.affine) : geometry.affine }
      : {}),
  };
  checkSameGrid({ ...read, shape }, image, fileName, target.name, "image");
  return read.data;
}

/** Label values → box numbers in value order, and each box around its voxels. */
function boxesOf(data: ArrayLike<number>, fileName: string, target: LabelTarget): OpenedLabelMap {
  const { width, height, depth } = target.decoded.display;
  const values = new Set<number>();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === 0) continue;
    if (!(v > 0) || !Number.isInteger(v)) {
      throw new DaftInputError(`holds ${v} at voxel ${i}; labels are integers ≥ 0`, fileName);
    }
    values.add(v);
  }
  if (values.size > MAX_LABEL)
    throw new DaftInputError(`holds ${values.size} labels; the page edits at most ${MAX_LABEL}`, fileName);
  const ordered = [...values].sort((a, b) => a - b);
  const boxOf = new Map(ordered.map((v, n) => [v, n + 1]));
  const labels = new Uint16Array(width * height * depth);
  const bounds = ordered.map(() => [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity]);
  let v = 0;
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++, v++) {
        const value = data[v]!;
        if (value === 0) continue;
        const box = boxOf.get(value)!;
        labels[v] = box;
        const b = bounds[box - 1]!;
        b[0] = Math.min(b[0]!, x);
        b[1] = Math.min(b[1]!, y);
        b[2] = Math.min(b[2]!, z);
        b[3] = Math.max(b[3]!, x);
        b[4] = Math.max(b[4]!, y);
        b[5] = Math.max(b[5]!, z);
      }
    }
  }
  const boxes = bounds.map(([x0, y0, z0, x1, y1, z1]) => ({ x0, y0, z0, x1, y1, z1 }) as VoxelBox);
  const renumbered = ordered.some((value, n) => value !== n + 1);
  const note =
    `${fileName}: ${ordered.length} label(s)` +
    (renumbered
      ? `, numbered as boxes 1–${ordered.length} in value order (${describeValues(ordered)})`
      : ordered.length
        ? ", one box each"
        : ", all empty");
  return { labels, boxes, note };
}

/** A challenge .npz gives its 'segs' (a prediction), else its 'gts'; any other file is read by its format. */
function readLabels(bytes: Uint8Array, fileName: string): LabelMapArray {
  if (/\.npz$/i.test(fileName)) {
    const keys = openNpz(bytes, fileName).keys;
    if (!keys.includes("segs") && keys.includes("gts"))
      return readLabelMapFile(bytes, fileName, "ground truth");
  }
  return readLabelMapFile(bytes, fileName, "prediction");
}

function describeValues(values: number[]): string {
  const shown = values.slice(0, 4).map((v, n) => `${v} → ${n + 1}`);
  return values.length > 4 ? `${shown.join(", ")}, …` : shown.join(", ");
}
