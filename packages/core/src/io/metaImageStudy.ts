/**
 * A MetaImage file (`.mha`: ITK's, SimpleITK's and grand-challenge.org's format) as a Study, and its label map
 * written back as `.mha` with the input's sizes, spacing, offset, direction matrix and anatomical orientation, so
 * ITK-based tools (SimpleITK, ITK-SNAP, nnU-Net's SimpleITK reader, 3D Slicer) overlay it exactly.
 *
 * Axes: DimSize lists the fastest axis first — the same memory as the engine's C-order (z, y, x) volume. World
 * coordinates are ITK's LPS: world = Offset + Σ_i index_i · spacing_i · direction_i (see metaImage.ts). A 2D image
 * lies in the z = 0 plane. 3 or 4 channels (ElementNumberOfChannels) make a 2D colour image (alpha dropped); a
 * trailing axis of size 1 is dropped.
 */
import { DaftInputError } from "../errors.js";
import { rgbaToRgb } from "../image/channels.js";
import { affineFromColumns, type Vec3 } from "../image/geometry.js";
import { readMetaImage, writeMetaImage } from "./metaImage.js";
import { formatSpacing, type Study } from "./study.js";

/** What a MetaImage input's label map copies. */
export interface MetaImageSource {
  /** Spatial sizes, fastest first, as the input had them (2 or 3). */
  sizes: number[];
  spacing: number[];
  offset: number[];
  directions: number[][];
  anatomicalOrientation?: string;
  compressed: boolean;
}

export function decodeMetaImageStudy(bytes: Uint8Array, source: string): Study {
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  const image = readMetaImage(bytes, source);
  let axes = image.sizes.length;
  while (axes > 3 && image.sizes[axes - 1] === 1) axes--;
  if (axes < 2 || axes > 3) {
    fail(`MetaImage has ${axes} axes (DimSize ${image.sizes.join(" ")}); a 2D image or 3D volume is needed`);
  }
  const channels = image.channels;
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    fail(`MetaImage has ${channels} channels per voxel; only grey or RGB(A) is read`);
  }
  const [width, height, depth = 1] = image.sizes.slice(0, axes) as [number, number, number?];
  if (channels > 1 && depth > 1)
    fail(`MetaImage colour volume (${channels} channels, ${depth} slices) is not read`);
  const column = (axis: number): Vec3 => {
    const d = image.directions[axis] ?? [];
    const s = image.spacing[axis] ?? 1;
    return [0, 1, 2].map((row) => (d[row] ?? (row === axis ? 1 : 0)) * s) as Vec3;
  };
  const origin = [0, 1, 2].map((row) => image.offset[row] ?? 0) as Vec3;
  const k: Vec3 = axes === 3 ? column(2) : [0, 0, 1];
  const affine = affineFromColumns(column(0), column(1), k, origin);
  const [sx = 1, sy = 1, sz = 1] = image.spacing.slice(0, axes);
  const spacing: [number, number, number] = [sz, sy, sx];
  return {
    format: "metaimage",
    source,
    dimension: depth === 1 ? 2 : 3,
    width,
    height,
    depth,
    channels: channels === 1 ? 1 : 3,
    values: channels === 4 ? rgbaToRgb(image.data) : image.data,
    eightBit: image.elementType === "MET_UCHAR",
    invert: false,
    spacing,
    geometry: { affine, space: "LPS", positioned: true },
    metaImage: {
      sizes: image.sizes.slice(0, axes),
      spacing: image.spacing.slice(0, axes),
      offset: image.offset,
      directions: image.directions.slice(0, axes).map((d) => d.slice()),
      ...(image.anatomicalOrientation ? { anatomicalOrientation: image.anatomicalOrientation } : {}),
      compressed: image.compressed,
    },
    description:
      `MetaImage ${image.sizes.join("×")} ${image.elementType}${channels > 1 ? `, ${channels} channels` : ""}, ` +
      `${image.compressed ? "compressed" : "raw"}, spacing ${formatSpacing(spacing)} mm (z,y,x)` +
      (image.anatomicalOrientation ? `, orientation ${image.anatomicalOrientation}` : ""),
  };
}

/** The label map as `.mha`: uint16 (MET_USHORT), the input's placement, compressed when the input was. */
export function encodeMetaImageLabels(source: MetaImageSource, labels: Uint16Array): Uint8Array {
  const n = source.sizes.length;
  return writeMetaImage(
    {
      sizes: source.sizes,
      data: labels,
      spacing: source.spacing,
      offset: source.offset.slice(0, n),
      directions: source.directions.map((d) => d.slice(0, n)),
      ...(source.anatomicalOrientation ? { anatomicalOrientation: source.anatomicalOrientation } : {}),
    },
    { compress: source.compressed },
  );
}
