/**
 * Surface distances between two masks, following DeepMind's `surface-distance` package
 * (`compute_surface_distances`), on typed arrays and restricted to a bounding box.
 *
 * Surfels live on the voxel-corner grid of the box (see marchingTables.ts): a corner whose
 * neighbourhood code is neither empty nor full is a surface element with the code's area (3D) or
 * contour length (2D), scaled by the spacing. The distance of a surfel of A to B is the Euclidean
 * distance (mm) from its corner to the nearest surfel corner of B. Cropping to a box that contains
 * both masks changes nothing: every surfel lies on the box's corner grid, so nearest surfels do too.
 */
import { squaredDistanceTransform } from "./edt.js";
import { contourLengthTable, surfelAreaTable } from "./marchingTables.js";

/** Which voxels of an array form the mask: `data[i] === label`, or `data[i] !== 0` when label is null. */
export interface MaskRef {
  data: ArrayLike<number>;
  label: number | null;
}

/** Inclusive voxel box: lo[axis] ≤ index ≤ hi[axis]. */
export interface VoxelBox {
  lo: number[];
  hi: number[];
}

/** Surfel totals of one mask pair at one tolerance. */
export interface SurfaceOverlap {
  /** Total surface area (3D, mm²) or contour length (2D, mm) of A and of B. */
  areaA: number;
  areaB: number;
  /** The parts of those within `tolerance` of the other surface. */
  areaAWithin: number;
  areaBWithin: number;
}

export interface SurfaceDistances {
  distancesAToB: Float64Array;
  distancesBToA: Float64Array;
  surfelAreasA: Float64Array;
  surfelAreasB: Float64Array;
}

interface CornerCodes {
  codes: Uint8Array;
  border: Uint8Array;
  surfels: number;
}

const tableCache = new Map<string, Float64Array>();

function surfelTable(spacing: readonly number[]): Float64Array {
  const key = spacing.join(",");
  let table = tableCache.get(key);
  if (!table) {
    table = spacing.length === 3 ? surfelAreaTable(spacing) : contourLengthTable(spacing);
    if (tableCache.size > 64) tableCache.clear();
    tableCache.set(key, table);
  }
  return table;
}

function checkGeometry(shape: readonly number[], spacing: readonly number[]): void {
  if (shape.length !== 2 && shape.length !== 3) {
    throw new RangeError(`surface distance: masks must be 2D or 3D, got shape (${shape.join(", ")})`);
  }
  if (spacing.length !== shape.length || spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new RangeError(
      `surface distance: spacing (${spacing.join(", ")}) must be ${shape.length} positive numbers`,
    );
  }
}

/** Corner-grid shape of a box: one more corner than voxels along each axis. */
export function cornerGridShape(box: VoxelBox): number[] {
  return box.lo.map((lo, axis) => box.hi[axis]! - lo + 2);
}

/**
 * Neighbourhood codes of every corner of the box's corner grid. The box is padded with one empty voxel
 * on each side, so corner c (0-based in the grid) touches box voxels c-1 and c along every axis.
 */
function cornerCodes(mask: MaskRef, shape: readonly number[], box: VoxelBox): CornerCodes {
  const dims = shape.length;
  const m = box.lo.map((lo, axis) => box.hi[axis]! - lo + 1);
  const g = m.map((x) => x + 1);
  // Normalise to 3D: a 2D box is one plane with a unit leading axis and no leading-axis neighbours.
  const [m0, m1, m2] = dims === 3 ? (m as [number, number, number]) : [1, m[0]!, m[1]!];
  const [lo0, lo1, lo2] = dims === 3 ? (box.lo as [number, number, number]) : [0, box.lo[0]!, box.lo[1]!];
  const [, n1, n2] = dims === 3 ? (shape as [number, number, number]) : [1, shape[0]!, shape[1]!];
  const p1 = m1 + 2;
  const p2 = m2 + 2;
  const planes = dims === 3 ? m0 + 2 : 1;
  const padded = new Uint8Array(planes * p1 * p2);
  const { data, label } = mask;
  for (let z = 0; z < m0; z++) {
    const pz = dims === 3 ? z + 1 : 0;
    for (let y = 0; y < m1; y++) {
      const src = ((lo0 + z) * n1 + lo1 + y) * n2 + lo2;
      const dst = (pz * p1 + y + 1) * p2 + 1;
      if (label === null) for (let x = 0; x < m2; x++) padded[dst + x] = data[src + x] !== 0 ? 1 : 0;
      else for (let x = 0; x < m2; x++) padded[dst + x] = data[src + x] === label ? 1 : 0;
    }
  }
  // 2D codes per padded plane: bit 2·k1 + k2.
  const g1 = m1 + 1;
  const g2 = m2 + 1;
  const planeCodes = new Uint8Array(planes * g1 * g2);
  for (let z = 0; z < planes; z++) {
    for (let y = 0; y < g1; y++) {
      const row0 = (z * p1 + y) * p2;
      const row1 = row0 + p2;
      const out = (z * g1 + y) * g2;
      for (let x = 0; x < g2; x++) {
        planeCodes[out + x] =
          padded[row0 + x]! |
          (padded[row0 + x + 1]! << 1) |
          (padded[row1 + x]! << 2) |
          (padded[row1 + x + 1]! << 3);
      }
    }
  }
  const total = g.reduce((a, b) => a * b, 1);
  let codes: Uint8Array;
  let full: number;
  if (dims === 2) {
    codes = planeCodes;
    full = 15;
  } else {
    // 3D code: bit 4·k0 + 2·k1 + k2 = plane c0's 2D code | plane (c0+1)'s 2D code << 4.
    codes = new Uint8Array(total);
    const planeSize = g1 * g2;
    for (let c0 = 0; c0 < g[0]!; c0++) {
      const a = c0 * planeSize;
      const b = a + planeSize;
      for (let i = 0; i < planeSize; i++) codes[a + i] = planeCodes[a + i]! | (planeCodes[b + i]! << 4);
    }
    full = 255;
  }
  const border = new Uint8Array(total);
  let surfels = 0;
  for (let i = 0; i < total; i++) {
    const c = codes[i]!;
    if (c !== 0 && c !== full) {
      border[i] = 1;
      surfels++;
    }
  }
  return { codes, border, surfels };
}

/** Sums surfel areas of `from`, and those whose corner is within tolerance of `to`'s surfels. */
function accumulateWithin(
  from: CornerCodes,
  distanceSq: Float64Array | null,
  table: Float64Array,
  tolerance: number,
): [number, number] {
  let total = 0;
  let within = 0;
  const { codes, border } = from;
  for (let i = 0; i < codes.length; i++) {
    if (border[i] === 0) continue;
    const area = table[codes[i]!]!;
    total += area;
    if (distanceSq !== null && Math.sqrt(distanceSq[i]!) <= tolerance) within += area;
  }
  return [total, within];
}

/**
 * Surface overlap of masks A and B at `tolerance` (mm), computed on `box` (which must contain both
 * masks). Distances beyond the tolerance are never computed exactly, which keeps this fast.
 */
export function surfaceOverlapInBox(
  a: MaskRef,
  b: MaskRef,
  shape: readonly number[],
  spacing: readonly number[],
  box: VoxelBox,
  tolerance: number,
): SurfaceOverlap {
  checkGeometry(shape, spacing);
  const table = surfelTable(spacing);
  const grid = cornerGridShape(box);
  const codesA = cornerCodes(a, shape, box);
  const codesB = cornerCodes(b, shape, box);
  const toB = codesB.surfels > 0 ? squaredDistanceTransform(codesB.border, grid, spacing, tolerance) : null;
  const [areaA, areaAWithin] = accumulateWithin(codesA, toB, table, tolerance);
  const toA = codesA.surfels > 0 ? squaredDistanceTransform(codesA.border, grid, spacing, tolerance) : null;
  const [areaB, areaBWithin] = accumulateWithin(codesB, toA, table, tolerance);
  return { areaA, areaB, areaAWithin, areaBWithin };
}

/** Inclusive bounding box of the voxels of either mask, or null when both are empty. */
export function unionBoundingBox(a: MaskRef, b: MaskRef, shape: readonly number[]): VoxelBox | null {
  const dims = shape.length;
  const lo = shape.map(() => Infinity);
  const hi = shape.map(() => -1);
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((x, y) => x * y, 1));
  const size = shape.reduce((x, y) => x * y, 1);
  const inA = a.label === null ? (i: number) => a.data[i] !== 0 : (i: number) => a.data[i] === a.label;
  const inB = b.label === null ? (i: number) => b.data[i] !== 0 : (i: number) => b.data[i] === b.label;
  for (let i = 0; i < size; i++) {
    if (!inA(i) && !inB(i)) continue;
    let rem = i;
    for (let axis = 0; axis < dims; axis++) {
      const c = Math.floor(rem / strides[axis]!);
      rem -= c * strides[axis]!;
      if (c < lo[axis]!) lo[axis] = c;
      if (c > hi[axis]!) hi[axis] = c;
    }
  }
  return hi[0]! < 0 ? null : { lo, hi };
}

/**
 * DeepMind-style surface distances of two binary masks (non-zero = inside) of the same shape:
 * for every surfel of A its distance (mm) to B's surface and its area, and vice versa.
 * A mask without surface gives empty arrays; distances to an empty surface are +Infinity.
 */
export function surfaceDistances(
  maskA: ArrayLike<number>,
  maskB: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
): SurfaceDistances {
  checkGeometry(shape, spacing);
  const a: MaskRef = { data: maskA, label: null };
  const b: MaskRef = { data: maskB, label: null };
  const box = unionBoundingBox(a, b, shape);
  const empty = new Float64Array(0);
  if (!box) return { distancesAToB: empty, distancesBToA: empty, surfelAreasA: empty, surfelAreasB: empty };
  const table = surfelTable(spacing);
  const grid = cornerGridShape(box);
  const codesA = cornerCodes(a, shape, box);
  const codesB = cornerCodes(b, shape, box);
  const collect = (from: CornerCodes, to: CornerCodes): [Float64Array, Float64Array] => {
    const distanceSq = to.surfels > 0 ? squaredDistanceTransform(to.border, grid, spacing) : null;
    const distances = new Float64Array(from.surfels);
    const areas = new Float64Array(from.surfels);
    let k = 0;
    for (let i = 0; i < from.codes.length; i++) {
      if (from.border[i] === 0) continue;
      distances[k] = distanceSq ? Math.sqrt(distanceSq[i]!) : Infinity;
      areas[k++] = table[from.codes[i]!]!;
    }
    return [distances, areas];
  };
  const [distancesAToB, surfelAreasA] = collect(codesA, codesB);
  const [distancesBToA, surfelAreasB] = collect(codesB, codesA);
  return { distancesAToB, distancesBToA, surfelAreasA, surfelAreasB };
}
