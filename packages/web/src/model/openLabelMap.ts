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
  DaftInputError,
  isDicomPart10,
  readDicom,
  readDicomSegOnto,
  segmentLabelNames,
  labelMapBoxes,
  labelMapOnGrid,
  namesOfLabels,
  readLabelMapForBoxes,
  SEGMENTATION_STORAGE,
} from "@daft/core";
import type { DecodedInput } from "../input/decodeInput.js";
import { boxFromPrompt, type VoxelBox } from "./editHistory.js";

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

export async function openLabelMap(
  bytes: Uint8Array,
  fileName: string,
  target: LabelTarget,
): Promise<OpenedLabelMap> {
  const read = isDicomPart10(bytes)
    ? dicomSegValues(bytes, fileName, target)
    : await gridValues(bytes, fileName, target);
  return boxesOf(read, fileName, target);
}

/** A DICOM-SEG's labels on the open DICOM series' sorted slices. */
/** A file's label values, and what it calls label n (names[n − 1]) when it says. */
interface LabelValues {
  values: ArrayLike<number>;
  names?: (string | undefined)[];
}

function dicomSegValues(bytes: Uint8Array, fileName: string, target: LabelTarget): LabelValues {
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
  const read = readDicomSegOnto(file, dicom, fileName);
  return { values: read.labels, names: segmentLabelNames(read.segments) };
}

/** Any other label map file, which must lie on the image's grid. */
async function gridValues(bytes: Uint8Array, fileName: string, target: LabelTarget): Promise<LabelValues> {
  const { width, height, depth } = target.decoded.display;
  const geometry = target.decoded.kind === "study" ? target.decoded.study.geometry : undefined;
  const map = await readLabelMapForBoxes(bytes, fileName);
  const values = labelMapOnGrid(
    { map, file: fileName },
    {
      source: target.name,
      dimension: target.dimension,
      width,
      height,
      depth,
      what: "the image",
      ...(geometry ? { geometry } : {}),
    },
    "image",
  );
  return map.names ? { values, names: map.names } : { values };
}

/** Label values → box numbers in value order, each box around its voxels and named as the file names it. */
function boxesOf(read: LabelValues, fileName: string, target: LabelTarget): OpenedLabelMap {
  const { width, height, depth } = target.decoded.display;
  const { values, boxes, labels } = labelMapBoxes(read.values, [depth, height, width], fileName);
  const names = namesOfLabels(read.names, values);
  const renumbered = values.some((value, n) => value !== n + 1);
  const note =
    `${fileName}: ${values.length} label(s)` +
    (renumbered
      ? `, numbered as boxes 1–${values.length} in value order (${describeValues(values)})`
      : values.length
        ? ", one box each"
        : ", all empty");
  return {
    labels,
    boxes: boxes.map((box, n) => ({
      ...boxFromPrompt(box),
      // A box's default name given back ("box 1" as box 1: a daft export) leaves it unnamed.
      ...(names && names[n] !== `box ${n + 1}` ? { name: names[n]! } : {}),
    })),
    note,
  };
}

function describeValues(values: number[]): string {
  const shown = values.slice(0, 4).map((v, n) => `${v} → ${n + 1}`);
  return values.length > 4 ? `${shown.join(", ")}, …` : shown.join(", ");
}
