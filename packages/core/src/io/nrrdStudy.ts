/**
 * An NRRD file (3D Slicer's default volume format; also ITK's and teem's) as a Study, and its label map written
 * back as NRRD in the same voxel grid and patient frame, so Slicer overlays it exactly on the input.
 *
 * Axes: NRRD lists the fastest axis first, so sizes (x, y[, z]) are the same memory as the engine's C-order
 * (z, y, x) volume. A non-spatial first axis of 3 or 4 components (kind RGB-color / RGBA-color / vector …, or a
 * `none` space direction) makes a 2D colour image (alpha dropped); trailing axes of size 1 are dropped.
 */
import { DaftInputError } from "../errors.js";
import { rgbaToRgb } from "../image/channels.js";
import {
  affineFromColumns,
  crossProduct,
  invertAffine,
  voxelSizes,
  type Affine,
  type Vec3,
} from "../image/geometry.js";
import { readNrrd, writeNrrd, type NrrdImage, type NrrdSpace } from "./nrrd.js";
import { flattenSlicerSegmentation } from "./slicerSegmentation.js";
import { formatSpacing, type Study } from "./study.js";

/** What an NRRD input's label map copies: its spatial axes' sizes and their placement. */
export interface NrrdSource {
  /** Spatial sizes, fastest first (2 or 3 of them, as the input had). */
  sizes: number[];
  space?: NrrdSpace;
  /** One 3-vector per spatial axis (with `space`). */
  spaceDirections?: number[][];
  spaceOrigin?: number[];
  /** Per spatial axis, for inputs without a space. */
  spacings?: number[];
  gzip: boolean;
}

/** Kinds that mean "this axis is in space" (teem's list); any other kind is a per-voxel component axis. */
const SPATIAL_KINDS = new Set(["domain", "space", "time", "???", "none"]);

export function decodeNrrdStudy(bytes: Uint8Array, source: string): Study {
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  const nrrd = readNrrd(bytes, source);
  const componentAxis =
    nrrd.sizes.length > 2 &&
    (nrrd.spaceDirections?.[0] === null ||
      (nrrd.kinds !== undefined && !SPATIAL_KINDS.has(nrrd.kinds[0]!.toLowerCase())));
  // A 3D Slicer segmentation (.seg.nrrd) is read as its segments' label map; its first axis, if any, holds layers.
  const segmentation = flattenSlicerSegmentation(nrrd, componentAxis, source);
  const components = componentAxis && !segmentation ? nrrd.sizes[0]! : 1;
  let spatial = nrrd.sizes.map((_, axis) => axis).slice(componentAxis ? 1 : 0);
  nrrd.spaceDirections?.forEach((direction, axis) => {
    if (direction === null && spatial.includes(axis) && nrrd.sizes[axis] !== 1)
      fail(`NRRD axis ${axis} (size ${nrrd.sizes[axis]}) has no space direction but is not a component axis`);
  });
  while (spatial.length > 3 && nrrd.sizes[spatial[spatial.length - 1]!] === 1) spatial = spatial.slice(0, -1);
  if (spatial.length < 2 || spatial.length > 3) {
    fail(
      `NRRD image has ${spatial.length} spatial axes (sizes ${nrrd.sizes.join("×")}); a 2D image or 3D volume is needed`,
    );
  }
  if (components !== 1 && components !== 3 && components !== 4) {
    fail(
      `NRRD image has ${components} values per voxel (kind ${nrrd.kinds?.[0] ?? "none"}); only grey or RGB(A) is read`,
    );
  }
  const [width, height, depth = 1] = spatial.map((axis) => nrrd.sizes[axis]!) as [number, number, number?];
  if (components > 1 && depth > 1)
    fail(`NRRD colour volume (${components} components, ${depth} slices) is not read`);
  const { affine, positioned } = placement(nrrd, spatial, fail);
  const [sx, sy, sz] = voxelSizes(affine);
  const spacing: [number, number, number] = [sz, sy, sx];
  const values = segmentation ? segmentation.labels : components === 4 ? rgbaToRgb(nrrd.data) : nrrd.data;
  return {
    format: "nrrd",
    source,
    dimension: depth === 1 ? 2 : 3,
    width,
    height,
    depth,
    channels: components === 1 ? 1 : 3,
    values,
    eightBit: nrrd.type === "uint8" && !segmentation,
    invert: false,
    ...(segmentation ? { segmentNames: segmentation.names } : {}),
    spacing,
    geometry: { affine, space: nrrd.space === "right-anterior-superior" ? "RAS" : "LPS", positioned },
    nrrd: {
      sizes: spatial.map((axis) => nrrd.sizes[axis]!),
      ...(nrrd.space
        ? {
            space: nrrd.space,
            spaceDirections: spatial.map((axis) => nrrd.spaceDirections![axis]!),
            spaceOrigin: nrrd.spaceOrigin ?? [0, 0, 0],
          }
        : { spacings: [sx, sy, sz].slice(0, spatial.length) }),
      gzip: nrrd.encoding === "gzip",
    },
    description:
      (segmentation
        ? `3D Slicer segmentation, ${segmentation.names.length} segment(s) in ${segmentation.layers} layer(s) ` +
          `(label n = segment n: ${segmentation.names.slice(0, 5).join(", ")}` +
          `${segmentation.names.length > 5 ? ", …" : ""}), `
        : "") +
      `NRRD ${nrrd.sizes.join("×")} ${nrrd.type}${components > 1 ? `, ${components} components` : ""}, ` +
      `${nrrd.encoding} encoding, spacing ${formatSpacing(spacing)} mm (z,y,x), ` +
      (nrrd.space ? `space ${nrrd.space}` : "no patient space"),
  };
}

/** Voxel → world from `space directions` and `space origin`, or a scale by `spacings` when there is no space. */
function placement(
  nrrd: NrrdImage,
  spatial: number[],
  fail: (problem: string) => never,
): { affine: Affine; positioned: boolean } {
  if (!nrrd.space) {
    const spacings = spatial.map((axis) => {
      const s = nrrd.spacings?.[axis];
      return s !== undefined && Number.isFinite(s) && s > 0 ? s : 1;
    });
    const [sx = 1, sy = 1, sz = 1] = spacings;
    return { affine: affineFromColumns([sx, 0, 0], [0, sy, 0], [0, 0, sz], [0, 0, 0]), positioned: false };
  }
  if (!nrrd.spaceDirections) fail(`NRRD space ${nrrd.space} has no space directions`);
  const columns = spatial.map((axis) => {
    const d = nrrd.spaceDirections![axis];
    if (!d || d.length !== 3) fail(`NRRD space direction of axis ${axis} is not a 3-vector`);
    return d as Vec3;
  });
  const [i, j] = columns as [Vec3, Vec3];
  let k = columns[2];
  if (!k) {
    // A 2D image placed in 3D space: the slice axis is the unit normal of its plane.
    const n = crossProduct(i, j);
    const length = Math.hypot(...n);
    k = length > 0 ? (n.map((v) => v / length) as Vec3) : [0, 0, 1];
  }
  const o = nrrd.spaceOrigin ?? [0, 0, 0];
  if (o.length !== 3) fail("NRRD space origin is not a 3-vector");
  const affine = affineFromColumns(i, j, k, o as Vec3);
  try {
    invertAffine(affine); // the project's singularity test: world boxes need the inverse
  } catch {
    fail("NRRD space directions are degenerate (zero volume per voxel)");
  }
  return { affine, positioned: true };
}

/** The label map as NRRD: the input's spatial sizes, space, directions and origin (or spacings), uint16. */
export function encodeNrrdLabels(source: NrrdSource, labels: Uint16Array): Uint8Array {
  return writeNrrd(
    {
      type: "uint16",
      sizes: source.sizes,
      data: labels,
      ...(source.space
        ? { space: source.space, spaceDirections: source.spaceDirections!, spaceOrigin: source.spaceOrigin! }
        : { spacings: source.spacings! }),
      content: "daft segment label map (label = box index + 1)",
    },
    { gzip: source.gzip },
  );
}
