/**
 * One dataset case (image + label file bytes) → the arrays of a challenge case:
 * imgs (uint8; (H, W), (H, W, 3) or (D, H, W)), gts (uint16, objects painted i + 1), boxes, spacing (3D).
 */
import { DaftInputError } from "../errors.js";
import type { NdArray } from "../image/types.js";
import { decodeStudyFileWithoutCodecs } from "../io/decodeStudy.js";
import { readDicom } from "../io/dicom.js";
import { readDicomSegOnto } from "../io/dicomSegRead.js";
import { decodeDicomStudy, type DicomFileBytes } from "../io/dicomSeries.js";
import { isMetaImage } from "../io/metaImage.js";
import { looksLikeNifti, readNifti, toZyxVolume } from "../io/nifti.js";
import { decodeRaster } from "../io/raster.js";
import { toGreyOrRgb } from "../io/rasterFormat.js";
import { isNrrd } from "../io/study.js";
import { caseIdOf, challengeCaseName, type CaseEntry, type DatasetSpec } from "./datasetJson.js";
import { scaleToUint8 } from "./intensity.js";
import { extractObjects, type LabelData } from "./objects.js";
import { splitOfCase, type SplitName } from "./splits.js";

export interface ImportedCase {
  /** e.g. "2DBox_Endoscopy_kvasir-seg_kvasir_0001" */
  name: string;
  caseId: string;
  split: SplitName;
  /** Arrays of <split>/imgs/<name>.npz: imgs, boxes (int32, (N, 4) or (N, 6)) and spacing (3D). */
  imgsNpz: Record<string, NdArray>;
  /** Arrays of <split>/gts/<name>.npz: gts and spacing (3D). */
  gtsNpz: Record<string, NdArray>;
  objectNames: string[];
  height: number;
  width: number;
  /** 3D only. */
  depth?: number;
}

export interface CaseFiles {
  imageBytes: Uint8Array;
  labelBytes: Uint8Array;
  /** Names used in error messages (usually the file paths). */
  imageName: string;
  labelName: string;
}

/** The case id and split without reading any file (to filter by split cheaply). */
export function caseIdentity(
  dataset: DatasetSpec,
  entry: CaseEntry,
  seed = 0,
): { caseId: string; name: string; split: SplitName } {
  const caseId = entry.id ?? caseIdOf(entry.image);
  return { caseId, name: challengeCaseName(dataset, caseId), split: splitOfCase(dataset.name, caseId, seed) };
}

/** Converts one case. Throws a DaftInputError naming the bad file for any problem. */
export function importCase(dataset: DatasetSpec, entry: CaseEntry, files: CaseFiles, seed = 0): ImportedCase {
  const converted = dataset.dimension === 3 ? convert3d(entry, files) : convert2d(files);
  return assembleCase(dataset, caseIdentity(dataset, entry, seed), converted, files.labelName);
}

/**
 * A DICOM series and a DICOM-SEG made on it (a PACS export, an OHIF or Slicer annotation) → one 3D case: the
 * series as the volume (its sorted slices, intensities clipped to the 0.5–99.5 percentiles like every 3D case),
 * the SEG read onto it (label = segment number) as the label map.
 */
export function importDicomSegCase(
  dataset: DatasetSpec,
  entry: CaseEntry,
  series: { name: string; files: DicomFileBytes[] },
  seg: { name: string; bytes: Uint8Array },
  seed = 0,
): ImportedCase {
  const study = decodeDicomStudy(series.files, series.name);
  if (study.dimension !== 3 || !study.dicom || !study.spacing) {
    throw new DaftInputError(
      "a DICOM-SEG case needs a series of slices (a volume), not one image",
      series.name,
    );
  }
  const labels = readDicomSegOnto(readDicom(seg.bytes, seg.name), study.dicom, seg.name).labels;
  const shape = [study.depth, study.height, study.width];
  const converted: ConvertedCase = {
    imgs: { data: scaleToUint8(study.values), shape, dtype: "uint8" },
    labels,
    spatialShape: shape,
    spacing: study.spacing,
  };
  return assembleCase(dataset, caseIdentity(dataset, entry, seed), converted, seg.name);
}

/** Objects, boxes and the two .npz files' arrays of a converted case. */
function assembleCase(
  dataset: DatasetSpec,
  identity: ReturnType<typeof caseIdentity>,
  converted: ConvertedCase,
  labelName: string,
): ImportedCase {
  const { objects, gts } = extractObjects(
    converted.labels,
    converted.spatialShape,
    dataset.objectPlan,
    labelName,
  );
  if (objects.length === 0) throw new DaftInputError("label map has no foreground object", labelName);
  const boxWidth = dataset.dimension === 3 ? 6 : 4;
  const boxes: NdArray = {
    data: Int32Array.from(objects.flatMap((object) => object.box)),
    shape: [objects.length, boxWidth],
    dtype: "int32",
  };
  const gtsArray: NdArray = { data: gts, shape: converted.spatialShape, dtype: "uint16" };
  const extra: Record<string, NdArray> = converted.spacing
    ? { spacing: { data: Float64Array.from(converted.spacing), shape: [3], dtype: "float64" } }
    : {};
  const [first = 0, second = 0, third = 0] = converted.spatialShape;
  return {
    ...identity,
    imgsNpz: { imgs: converted.imgs, boxes, ...extra },
    gtsNpz: { gts: gtsArray, ...extra },
    objectNames: objects.map((object) => object.name),
    ...(dataset.dimension === 3
      ? { depth: first, height: second, width: third }
      : { height: first, width: second }),
  };
}

interface ConvertedCase {
  imgs: NdArray;
  labels: LabelData;
  /** (H, W) or (D, H, W) */
  spatialShape: number[];
  spacing?: [number, number, number];
}

function convert2d(files: CaseFiles): ConvertedCase {
  const image = readPlane(files.imageBytes, files.imageName, false);
  const label = readPlane(files.labelBytes, files.labelName, true);
  if (label.channels !== 1) {
    throw new DaftInputError(
      `label image has ${label.channels} channels; expected a single-channel label map`,
      files.labelName,
    );
  }
  if (image.height !== label.height || image.width !== label.width) {
    throw new DaftInputError(
      `label is ${label.width}x${label.height} but image ${files.imageName} is ${image.width}x${image.height}`,
      files.labelName,
    );
  }
  const imgsData = image.data instanceof Uint8Array ? image.data : scaleToUint8(image.data);
  const shape = image.channels === 3 ? [image.height, image.width, 3] : [image.height, image.width];
  return {
    imgs: { data: imgsData, shape, dtype: "uint8" },
    labels: label.data,
    spatialShape: [image.height, image.width],
  };
}

interface Plane {
  data: LabelData;
  height: number;
  width: number;
  channels: 1 | 3;
}

/** A 2D image: PNG/JPEG/TIFF/BMP (alpha dropped), or a NIfTI, NRRD or MetaImage with one slice. */
function readPlane(bytes: Uint8Array, name: string, isLabel: boolean): Plane {
  if (isNrrd(bytes) || isMetaImage(bytes)) {
    const study = decodeStudyFileWithoutCodecs(bytes, name)!;
    if (study.depth !== 1) {
      throw new DaftInputError(
        `expected a 2D image, got ${study.width}x${study.height}x${study.depth} voxels`,
        name,
      );
    }
    return { data: study.values, height: study.height, width: study.width, channels: study.channels };
  }
  if (looksLikeNifti(bytes)) {
    const nifti = readNifti(bytes, name);
    const [width = 1, height = 1, ...rest] = nifti.dims;
    if (rest.some((size) => size !== 1)) {
      throw new DaftInputError(`expected a 2D image, got NIfTI dimensions ${nifti.dims.join("x")}`, name);
    }
    return { data: nifti.data, height, width, channels: 1 };
  }
  const raster = toGreyOrRgb(decodeRaster(bytes, name, { paletteAsIndices: isLabel }));
  return { data: raster.data, height: raster.height, width: raster.width, channels: raster.channels };
}

function convert3d(entry: CaseEntry, files: CaseFiles): ConvertedCase {
  const image = readVolume(files.imageBytes, files.imageName);
  const label = readVolume(files.labelBytes, files.labelName);
  if (image.shape.join("x") !== label.shape.join("x")) {
    throw new DaftInputError(
      `label volume is ${label.sizes} but image ${files.imageName} is ${image.sizes} (x, y, z)`,
      files.labelName,
    );
  }
  return {
    imgs: { data: scaleToUint8(image.data), shape: image.shape, dtype: "uint8" },
    labels: label.data,
    spatialShape: image.shape,
    spacing: volumeSpacing(image.spacing, entry, files.imageName),
  };
}

interface Volume3d {
  data: LabelData;
  /** (D, H, W) */
  shape: number[];
  /** (z, y, x) mm */
  spacing: [number, number, number];
  /** "X×Y×Z" as the file lists them, for messages. */
  sizes: string;
}

/** A volume file: NIfTI (.nii, .nii.gz), NRRD (.nrrd) or MetaImage (.mha), one value per voxel. */
function readVolume(bytes: Uint8Array, name: string): Volume3d {
  if (looksLikeNifti(bytes)) {
    const nifti = readNifti(bytes, name);
    const volume = toZyxVolume(nifti, name);
    return {
      data: volume.array.data as LabelData,
      shape: volume.array.shape,
      spacing: volume.spacing,
      sizes: nifti.dims.join("x"),
    };
  }
  if (isNrrd(bytes) || isMetaImage(bytes)) {
    const study = decodeStudyFileWithoutCodecs(bytes, name)!;
    if (study.channels !== 1)
      throw new DaftInputError("3D datasets need one value per voxel, not a colour image", name);
    return {
      data: study.values,
      shape: [study.depth, study.height, study.width],
      spacing: study.spacing!,
      sizes: [study.width, study.height, study.depth].join("x"),
    };
  }
  throw new DaftInputError(
    "3D datasets need NIfTI (.nii or .nii.gz), NRRD (.nrrd) or MetaImage (.mha) files",
    name,
  );
}

/** Spacing (z, y, x) from the file's header; dataset.json "spacing" (x, y, z) only when that is unusable. */
function volumeSpacing(
  headerSpacing: [number, number, number],
  entry: CaseEntry,
  name: string,
): [number, number, number] {
  if (headerSpacing.every((value) => Number.isFinite(value) && value > 0)) return headerSpacing;
  if (entry.spacing) {
    const [x, y, z] = entry.spacing as [number, number, number];
    return [z, y, x];
  }
  throw new DaftInputError(
    `header voxel size (${headerSpacing.join(", ")}) is not valid and dataset.json gives no spacing`,
    name,
  );
}
