/**
 * A label map file as `daft eval` scores it: a challenge .npz ('segs' for a prediction, 'gts' + 'spacing' for
 * ground truth) or a clinical label map — NIfTI, NRRD, MetaImage or a PNG — with its voxel size and placement from
 * the header, so a folder of `daft segment` outputs scores against a folder of reference segmentations the way
 * nnU-Net's evaluate_folder does.
 *
 * Files pair up by case key: the name without its format suffix, and for clinical files without nnU-Net's
 * channel suffix (`case_0000.nii.gz`, the image's name, pairs with the reference `case.nii.gz`), 3D Slicer's
 * segmentation suffix (`case.seg.nrrd`, read as its segments' label map) or a DICOM-SEG's (`case.seg.dcm`, read
 * onto its series by `daft eval --dicom`).
 */
import { DaftInputError } from "../errors.js";
import { flipXY, type Affine } from "../image/geometry.js";
import type { NdArray } from "../image/types.js";
import { decodeStudyFile } from "../io/decodeStudy.js";
import { openNpz } from "../io/npz.js";
import type { StudyFormat } from "../io/study.js";

/** The files `daft eval` reads from a folder (JPEG and other lossy pictures cannot hold a label map). */
export const LABEL_MAP_FILE = /\.(npz|nii|nii\.gz|nrrd|mha|png)$/i;

export type LabelMapRole = "prediction" | "ground truth";

export interface LabelMapArray {
  data: ArrayLike<number>;
  /** (H, W) or (D, H, W). */
  shape: number[];
  /** Voxel size (z, y, x) in mm, 3D only: the npz's 'spacing' or the file's header. */
  spacing?: number[];
  /** Voxel (i, j, k) → RAS millimetres, for a file placed in patient space. */
  rasAffine?: Affine;
  format: "npz" | StudyFormat;
  /** What label n is called (a 3D Slicer segmentation's segment names): names[n − 1]. */
  names?: (string | undefined)[];
}

/** A DICOM file's suffix: `daft segment --dicom-seg`'s ".seg.dcm", or ".dcm" / ".dicom". */
export const DICOM_FILE_SUFFIX = /(\.seg)?\.(dcm|dicom)$/i;

/**
 * The key a prediction and its ground truth share: "ct_0000.nii.gz", "ct.nrrd", 3D Slicer's "ct.seg.nrrd" and a
 * DICOM-SEG "ct.seg.dcm" → "ct"; "a.npz" → "a".
 */
export function caseKeyOf(fileName: string): string {
  if (!LABEL_MAP_FILE.test(fileName)) return fileName.replace(DICOM_FILE_SUFFIX, "").replace(/_\d{4}$/, "");
  const stem = fileName.replace(LABEL_MAP_FILE, "");
  if (/\.npz$/i.test(fileName)) return stem;
  return (/\.nrrd$/i.test(fileName) ? stem.replace(/\.seg$/i, "") : stem).replace(/_\d{4}$/, "");
}

export async function readLabelMapFile(
  bytes: Uint8Array,
  file: string,
  role: LabelMapRole,
): Promise<LabelMapArray> {
  if (/\.npz$/i.test(file)) return readNpzLabels(bytes, file, role);
  const study = await decodeStudyFile(bytes, file);
  if (study.channels !== 1)
    throw new DaftInputError(`a ${role} label map must have one value per voxel`, file);
  const values = study.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0) || !Number.isInteger(v)) {
      throw new DaftInputError(
        `a ${role} label map holds ${Number.isNaN(v) ? "NaN" : v} at voxel ${i}; labels are integers ≥ 0`,
        file,
      );
    }
  }
  const volume = study.dimension === 3;
  const geometry = study.geometry;
  return {
    data: values,
    shape: volume ? [study.depth, study.height, study.width] : [study.height, study.width],
    ...(volume && study.spacing ? { spacing: [...study.spacing] } : {}),
    ...(geometry?.positioned
      ? { rasAffine: geometry.space === "LPS" ? flipXY(geometry.affine) : geometry.affine }
      : {}),
    format: study.format,
    ...(study.segmentNames ? { names: study.segmentNames } : {}),
  };
}

/**
 * A label map to take boxes from or to edit (`daft segment --boxes-from`, the web app's Open label map): any file
 * readLabelMapFile reads; an .npz gives its 'segs' when it has them, else its 'gts' (no 'spacing' needed).
 */
export async function readLabelMapForBoxes(bytes: Uint8Array, file: string): Promise<LabelMapArray> {
  if (!/\.npz$/i.test(file)) return readLabelMapFile(bytes, file, "prediction");
  const archive = openNpz(bytes, file);
  return readNpzLabels(
    bytes,
    file,
    "prediction",
    !archive.has("segs") && archive.has("gts") ? "gts" : "segs",
  );
}

function readNpzLabels(
  bytes: Uint8Array,
  file: string,
  role: LabelMapRole,
  key = role === "prediction" ? "segs" : "gts",
): LabelMapArray {
  const archive = openNpz(bytes, file);
  if (!archive.has(key))
    throw new DaftInputError(`no '${key}' array (found: ${archive.keys.join(", ")})`, file);
  const labels = archive.read(key);
  const dims = labels.shape.length;
  if (dims !== 2 && dims !== 3) {
    throw new DaftInputError(
      `'${key}' must be 2D (H, W) or 3D (D, H, W), got shape (${labels.shape.join(", ")})`,
      file,
    );
  }
  let spacing: number[] | undefined;
  if (role === "ground truth" && dims === 3) {
    if (!archive.has("spacing")) throw new DaftInputError("3D 'gts' needs a 'spacing' array", file);
    spacing = Array.from(asNumbers(archive.read("spacing")));
    if (spacing.length !== 3 || spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
      throw new DaftInputError(`'spacing' must be 3 positive numbers, got (${spacing.join(", ")})`, file);
    }
  }
  return { data: asNumbers(labels), shape: labels.shape, ...(spacing ? { spacing } : {}), format: "npz" };
}

/** Label maps and spacings as plain numbers (64-bit integer arrays are converted). */
function asNumbers(array: NdArray): ArrayLike<number> {
  const data = array.data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    return Float64Array.from(data, (v) => Number(v));
  return data;
}

/**
 * A prediction must lie on its ground truth's voxel grid: the same shape and, when both are placed in patient
 * space, the same voxel → world mapping (to 0.01 mm at the grid's far corner). `reference` names the second
 * grid in messages (the web page checks a label map against its "image").
 */
export function checkSameGrid(
  prediction: LabelMapArray,
  groundTruth: LabelMapArray,
  predictionFile: string,
  groundTruthFile: string,
  reference = "ground truth",
): void {
  const what = prediction.format === "npz" ? "'segs' shape" : "shape";
  if (prediction.shape.join(",") !== groundTruth.shape.join(",")) {
    throw new DaftInputError(
      `${what} (${prediction.shape.join(", ")}) does not match the ${reference}'s (${groundTruth.shape.join(", ")})`,
      predictionFile,
    );
  }
  const a = prediction.rasAffine;
  const b = groundTruth.rasAffine;
  if (!a || !b) return;
  const [depth, height, width] =
    groundTruth.shape.length === 3 ? groundTruth.shape : [1, ...groundTruth.shape];
  const corners = [
    [0, 0, 0],
    [width! - 1, height! - 1, depth! - 1],
  ];
  let worst = 0;
  for (const [i, j, k] of corners) {
    for (let row = 0; row < 3; row++) {
      const at = (m: Affine) => m[row]![0]! * i! + m[row]![1]! * j! + m[row]![2]! * k! + m[row]![3]!;
      worst = Math.max(worst, Math.abs(at(a) - at(b)));
    }
  }
  if (worst > 0.01) {
    throw new DaftInputError(
      `placed ${Number(worst.toPrecision(3))} mm away from the ${reference} ${groundTruthFile} on the same voxel ` +
        `grid (a different affine); resample it onto the ${reference}'s grid first`,
      predictionFile,
    );
  }
}
