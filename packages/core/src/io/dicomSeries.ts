/**
 * DICOM files → a Study: one series (a folder of single-frame slices) as a volume, or one 2D image.
 *
 * A series is sorted by ImagePositionPatient projected on the slice normal (row cosines × column cosines of
 * ImageOrientationPatient); the slice spacing comes from those positions (not SliceThickness), and each slice's
 * RescaleSlope/RescaleIntercept is applied. The voxel → LPS affine has columns
 *   i (column index) = row cosines × PixelSpacing[1], j (row index) = column cosines × PixelSpacing[0],
 *   k (slice index) = (last position − first position) / (slices − 1)   (exact also for gantry tilt),
 * and its origin at the first sorted slice's ImagePositionPatient.
 */
import { DaftInputError } from "../errors.js";
import { affineFromColumns, crossProduct, dotProduct, type Vec3 } from "../image/geometry.js";
import { readDicom, type DicomFile, type DicomTags } from "./dicom.js";
import { decodeDicomPixels } from "./dicomPixels.js";
import { dicomSourceOf } from "./dicomSource.js";
import { formatSpacing, type Study } from "./study.js";

export interface DicomFileBytes {
  /** The file's path, for messages. */
  name: string;
  bytes: Uint8Array;
  /**
   * The file's rescaled pixel values as decodeDicomPixels gives them, when they were decoded elsewhere (the CLI,
   * the server and the web page decode compressed series on workers: dicomDecodePool.ts); used for the slices of a
   * series, decoded here otherwise.
   */
  decodedValues?: Float32Array;
}

interface Instance {
  name: string;
  file: DicomFile;
  /** A frame of an enhanced multi-frame image: its rescaled values (the file holds every frame)… */
  pixels?: Float32Array;
  /** … and its 1-based frame number, which a DICOM-SEG refers to. */
  frameNumber?: number;
}

const ORIENTATION_TOLERANCE = 1e-4;
/** Largest relative deviation of one slice gap from the median gap. */
const GAP_TOLERANCE = 0.1;

/** Decodes the DICOM images in `files` (files without pixel data, e.g. DICOMDIR, are skipped). */
export function decodeDicomStudy(files: DicomFileBytes[], source: string): Study {
  const instances: Instance[] = files
    .map(({ name, bytes, decodedValues }) => ({
      name,
      file: readDicom(bytes, name),
      ...(decodedValues && files.length > 1 ? { pixels: decodedValues } : {}),
    }))
    .filter(({ file }) => file.pixelData !== null);
  if (instances.length === 0) {
    throw new DaftInputError(`no DICOM image with pixel data among ${files.length} file(s)`, source);
  }
  const series = new Set(instances.map((i) => i.file.tags.seriesInstanceUID ?? "(none)"));
  if (series.size > 1) {
    throw new DaftInputError(
      `holds ${series.size} DICOM series (SeriesInstanceUID ${[...series].slice(0, 3).join(", ")}` +
        `${series.size > 3 ? ", …" : ""}); give one series per folder`,
      source,
    );
  }
  if (instances.length === 1) {
    const frames = enhancedFrames(instances[0]!);
    return frames ? volume(frames, source, true) : singleImage(instances[0]!, source);
  }
  return volume(instances, source);
}

/**
 * The frames of an enhanced multi-frame image (PS3.3 C.7.6.16) as slices: each frame placed and rescaled by its
 * Per-Frame Functional Groups over the Shared ones (Plane Position, Plane Orientation, Pixel Measures, Pixel Value
 * Transformation); undefined for a single-frame image. Multi-frame images without per-frame groups (cine loops,
 * old-style multi-frame) are refused: nothing places their frames in space.
 */
function enhancedFrames({ name, file }: Instance): Instance[] | undefined {
  const t = file.tags;
  const count = t.numberOfFrames ?? 1;
  if (count <= 1) return undefined;
  const perFrame = t.perFrameFunctionalGroups;
  if (!perFrame) {
    throw new DaftInputError(
      `multi-frame DICOM (${count} frames) without Per-Frame Functional Groups (a cine loop or an old-style ` +
        "multi-frame image): nothing places its frames in space; export them as single-frame files of one series",
      name,
    );
  }
  if (perFrame.length !== count) {
    throw new DaftInputError(
      `NumberOfFrames is ${count} but the Per-Frame Functional Groups Sequence has ${perFrame.length} items`,
      name,
    );
  }
  if ((t.samplesPerPixel ?? 1) !== 1 || t.photometricInterpretation === "PALETTE COLOR") {
    throw new DaftInputError(`a multi-frame volume must be greyscale; this one ${notGreyscale(t)}`, name);
  }
  // Stored values once for all frames; each frame's rescale comes from its own groups.
  const stored = decodeDicomPixels({ ...file, tags: { ...t, rescaleSlope: 1, rescaleIntercept: 0 } }, name);
  const plane = stored.rows * stored.columns;
  const { sharedFunctionalGroups: shared = {}, perFrameFunctionalGroups: _, ...topLevel } = t;
  return perFrame.map((group, f) => {
    const tags = { ...topLevel, ...shared, ...group, numberOfFrames: 1, instanceNumber: f + 1 };
    const slope = tags.rescaleSlope ?? 1;
    const intercept = tags.rescaleIntercept ?? 0;
    const pixels = stored.values.slice(f * plane, (f + 1) * plane);
    for (let i = 0; i < plane; i++) pixels[i] = pixels[i]! * slope + intercept;
    return { name: `${name} frame ${f + 1}`, file: { ...file, tags }, pixels, frameNumber: f + 1 };
  });
}

function singleImage({ name, file }: Instance, source: string): Study {
  const t = file.tags;
  if ((t.numberOfFrames ?? 1) > 1) {
    throw new DaftInputError(
      `multi-frame DICOM (${t.numberOfFrames} frames) is not supported; export the frames as single-frame files of one series`,
      name,
    );
  }
  const pixels = decodeDicomPixels(file, name);
  const photometric = pixels.photometricInterpretation ?? t.photometricInterpretation ?? "MONOCHROME2";
  const samples = pixels.samplesPerPixel;
  if (
    !(samples === 1 && /^MONOCHROME[12]$/.test(photometric)) &&
    !(samples === 3 && /^(RGB|YBR_FULL)$/.test(photometric))
  ) {
    throw new DaftInputError(
      `photometric interpretation ${photometric} with ${samples} sample(s) per pixel is not supported ` +
        "(MONOCHROME1/2, RGB or YBR_FULL)",
      name,
    );
  }
  const values = photometric === "YBR_FULL" ? ybrToRgb(pixels.values) : pixels.values;
  const [rowSpacing, columnSpacing] = t.pixelSpacing ?? [1, 1];
  const thickness = t.sliceThickness && t.sliceThickness > 0 ? t.sliceThickness : 1;
  const positioned = t.imagePositionPatient !== undefined && t.imageOrientationPatient !== undefined;
  const [rowCosines, columnCosines] = positioned ? orientationOf(t.imageOrientationPatient!, name) : axes();
  const normal = crossProduct(rowCosines, columnCosines);
  const affine = affineFromColumns(
    scaled(rowCosines, columnSpacing),
    scaled(columnCosines, rowSpacing),
    scaled(normal, thickness),
    t.imagePositionPatient ?? [0, 0, 0],
  );
  return {
    format: "dicom",
    source,
    dimension: 2,
    width: pixels.columns,
    height: pixels.rows,
    depth: 1,
    channels: samples === 3 ? 3 : 1,
    values,
    // PALETTE COLOR is looked up to 8-bit RGB, whatever the index bits.
    eightBit: t.photometricInterpretation === "PALETTE COLOR" || isEightBit(file),
    invert: photometric === "MONOCHROME1",
    spacing: [thickness, rowSpacing, columnSpacing],
    geometry: { affine, space: "LPS", positioned },
    ...(t.modality ? { modality: t.modality } : {}),
    dicom: dicomSourceOf([file]),
    description:
      `DICOM image ${pixels.columns}×${pixels.rows} ${t.modality ?? "(no modality)"} ${photometric}, ` +
      `${file.transferSyntax.name}${positioned ? "" : ", no patient position"}`,
  };
}

function volume(instances: Instance[], source: string, multiFrame = false): Study {
  const first = instances[0]!;
  const ref = first.file.tags;
  for (const { name, file } of instances) {
    const t = file.tags;
    if ((t.numberOfFrames ?? 1) > 1) {
      throw new DaftInputError(
        `multi-frame image in a series (${t.numberOfFrames} frames) is not supported`,
        name,
      );
    }
    if ((t.samplesPerPixel ?? 1) !== 1 || t.photometricInterpretation === "PALETTE COLOR") {
      throw new DaftInputError(`series slices must be greyscale; this one ${notGreyscale(t)}`, name);
    }
    if (!t.imagePositionPatient || !t.imageOrientationPatient || !t.pixelSpacing) {
      const missing = [
        !t.imagePositionPatient && "ImagePositionPatient (0020,0032)",
        !t.imageOrientationPatient && "ImageOrientationPatient (0020,0037)",
        !t.pixelSpacing && "PixelSpacing (0028,0030)",
      ].filter(Boolean);
      throw new DaftInputError(`a series slice needs ${missing.join(", ")} to place it`, name);
    }
    if (t.rows !== ref.rows || t.columns !== ref.columns) {
      throw new DaftInputError(
        `slice size ${t.columns}×${t.rows} differs from ${ref.columns}×${ref.rows} in ${first.name}`,
        name,
      );
    }
    const orientationDiffers = t.imageOrientationPatient.some(
      (v, i) => Math.abs(v - ref.imageOrientationPatient![i]!) > ORIENTATION_TOLERANCE,
    );
    if (orientationDiffers) {
      throw new DaftInputError(
        `ImageOrientationPatient [${t.imageOrientationPatient.join(", ")}] differs from ` +
          `[${ref.imageOrientationPatient!.join(", ")}] in ${first.name}: not one stack of parallel slices`,
        name,
      );
    }
    if (t.pixelSpacing.some((v, i) => Math.abs(v - ref.pixelSpacing![i]!) > 1e-4 * Math.max(1, v))) {
      throw new DaftInputError(
        `PixelSpacing [${t.pixelSpacing.join(", ")}] differs from [${ref.pixelSpacing!.join(", ")}] in ${first.name}`,
        name,
      );
    }
  }
  const [rowCosines, columnCosines] = orientationOf(ref.imageOrientationPatient!, first.name);
  const normal = crossProduct(rowCosines, columnCosines);
  const sorted = instances
    .map((instance) => ({ ...instance, along: dotProduct(instance.file.tags.imagePositionPatient!, normal) }))
    .sort((a, b) => a.along - b.along);
  const gaps = sorted.slice(1).map((s, i) => s.along - sorted[i]!.along);
  const medianGap = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  gaps.forEach((gap, i) => {
    const a = sorted[i]!;
    const b = sorted[i + 1]!;
    if (gap <= 1e-3 * Math.max(medianGap, 1e-3)) {
      throw new DaftInputError(
        `${a.name} and ${b.name} lie at the same position along the slice normal: more than one image per ` +
          "location (several echoes, phases or acquisitions?); give one stack per folder",
        source,
      );
    }
    if (Math.abs(gap - medianGap) > GAP_TOLERANCE * medianGap) {
      throw new DaftInputError(
        `uneven slice spacing: ${round(gap)} mm between ${a.name} and ${b.name}, ${round(medianGap)} mm elsewhere ` +
          "(missing slices?)",
        source,
      );
    }
  });

  const rows = ref.rows!;
  const columns = ref.columns!;
  const plane = rows * columns;
  const volume = new SeriesValues(plane * sorted.length);
  const scratch = new Float32Array(plane); // every slice is one grey sample per pixel (checked above)
  sorted.forEach(({ name, file, pixels }, k) => {
    volume.set((pixels ?? decodeDicomPixels(file, name, { scratch }).values).subarray(0, plane), k * plane);
  });
  const values = volume.values();
  const firstPosition = sorted[0]!.file.tags.imagePositionPatient!;
  const lastPosition = sorted[sorted.length - 1]!.file.tags.imagePositionPatient!;
  const steps = sorted.length - 1;
  const sliceStep: Vec3 = [0, 1, 2].map((a) => (lastPosition[a]! - firstPosition[a]!) / steps) as Vec3;
  const sliceSpacing = (sorted[sorted.length - 1]!.along - sorted[0]!.along) / steps;
  const [rowSpacing, columnSpacing] = ref.pixelSpacing!;
  const affine = affineFromColumns(
    scaled(rowCosines, columnSpacing),
    scaled(columnCosines, rowSpacing),
    sliceStep,
    firstPosition,
  );
  const spacing: [number, number, number] = [sliceSpacing, rowSpacing, columnSpacing];
  return {
    format: "dicom-series",
    source,
    dimension: 3,
    width: columns,
    height: rows,
    depth: sorted.length,
    channels: 1,
    values,
    eightBit: sorted.every(({ file }) => isEightBit(file)),
    invert: ref.photometricInterpretation === "MONOCHROME1",
    spacing,
    geometry: { affine, space: "LPS", positioned: true },
    ...(ref.modality ? { modality: ref.modality } : {}),
    dicom: dicomSourceOf(
      sorted.map(({ file }) => file),
      sliceSpacing,
      multiFrame ? sorted.map(({ frameNumber }) => frameNumber!) : undefined,
    ),
    description:
      `DICOM ${multiFrame ? "enhanced multi-frame image" : "series"} ${columns}×${rows}×${sorted.length} ` +
      `${ref.modality ?? "(no modality)"}, ` +
      `spacing ${formatSpacing(spacing)} mm (z,y,x), ${first.file.transferSyntax.name}`,
  };
}

/** Row and column direction cosines, checked to be unit length and orthogonal. */
function orientationOf(orientation: number[], name: string): [Vec3, Vec3] {
  const row: Vec3 = [orientation[0]!, orientation[1]!, orientation[2]!];
  const column: Vec3 = [orientation[3]!, orientation[4]!, orientation[5]!];
  const unit = (v: Vec3) => Math.abs(Math.hypot(...v) - 1) < 1e-3;
  if (!unit(row) || !unit(column) || Math.abs(dotProduct(row, column)) > 1e-3) {
    throw new DaftInputError(
      `ImageOrientationPatient [${orientation.join(", ")}] is not two orthogonal unit vectors`,
      name,
    );
  }
  return [row, column];
}

function axes(): [Vec3, Vec3] {
  return [
    [1, 0, 0],
    [0, 1, 0],
  ];
}

function scaled(v: Vec3, s: number): Vec3 {
  return [v[0] * s, v[1] * s, v[2] * s];
}

/** 8-bit unsigned stored values with no rescale: usable by the model as they are. */
/** Why a slice or frame is not greyscale: its colour photometric interpretation or its samples per pixel. */
function notGreyscale(t: DicomTags): string {
  return t.photometricInterpretation === "PALETTE COLOR"
    ? "is PALETTE COLOR"
    : `has ${t.samplesPerPixel} samples per pixel`;
}

function isEightBit(file: DicomFile): boolean {
  const t = file.tags;
  return (
    t.bitsAllocated === 8 &&
    (t.pixelRepresentation ?? 0) === 0 &&
    (t.rescaleSlope ?? 1) === 1 &&
    (t.rescaleIntercept ?? 0) === 0
  );
}

/** YBR_FULL (ITU-R BT.601 full range) → RGB, rounded and clamped to 0..255. */
function ybrToRgb(ybr: Float32Array): Float32Array {
  const rgb = new Float32Array(ybr.length);
  const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  for (let p = 0; p < ybr.length; p += 3) {
    const y = ybr[p]!;
    const cb = ybr[p + 1]! - 128;
    const cr = ybr[p + 2]! - 128;
    rgb[p] = clamp(y + 1.402 * cr);
    rgb[p + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    rgb[p + 2] = clamp(y + 1.772 * cb);
  }
  return rgb;
}

function round(v: number): number {
  return Number(v.toPrecision(4));
}

/**
 * A series' rescaled values, slice by slice: int16 while every value is an integer in int16's range (CT in
 * Hounsfield units, most MR), else float32 from the first slice that is not (PET's fractional rescale, MR above
 * 32767). The same numbers either way, in half the memory for CT, and 16-bit values are windowed through a table
 * (dataset/intensity.ts): a 300-slice CT series' 78 M values took a second to window as float32.
 */
export class SeriesValues {
  private ints: Int16Array | undefined;
  private floats: Float32Array | undefined;

  constructor(length: number) {
    this.ints = new Int16Array(length);
  }

  set(slice: Float32Array, at: number): void {
    const ints = this.ints;
    if (ints) {
      let i = 0;
      for (; i < slice.length; i++) {
        const v = slice[i]!;
        if ((v | 0) !== v || v < -32768 || v > 32767) break;
        ints[at + i] = v;
      }
      if (i === slice.length) return;
      // From here on float32: what was stored so far, as the numbers they are.
      this.floats = new Float32Array(ints.length);
      this.floats.set(ints);
      this.ints = undefined;
    }
    this.floats!.set(slice, at);
  }

  values(): Int16Array | Float32Array {
    return this.ints ?? this.floats!;
  }
}
