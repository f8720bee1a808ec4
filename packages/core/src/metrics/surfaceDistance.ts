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
  // 2D code of padded plane z at every corner of the plane: bit 2·k1 + k2.
  const g1 = m1 + 1;
  const g2 = m2 + 1;
  const planeSize = g1 * g2;
  const planeCodes = (z: number, out: Uint8Array) => {
    for (let y = 0; y < g1; y++) {
      const row0 = (z * p1 + y) * p2;
      const row1 = row0 + p2;
      const o = y * g2;
      for (let x = 0; x < g2; x++) {
        out[o + x] =
          padded[row0 + x]! |
          (padded[row0 + x + 1]! << 1) |
          (padded[row1 + x]! << 2) |
          (padded[row1 + x + 1]! << 3);
      }
    }
  };
  const total = g.reduce((a, b) => a * b, 1);
  const codes = new Uint8Array(total);
  const border = new Uint8Array(total);
  let surfels = 0;
  if (dims === 2) {
    planeCodes(0, codes);
    for (let i = 0; i < total; i++) {
      const c = codes[i]!;
      if (c !== 0 && c !== 15) {
        border[i] = 1;
        surfels++;
      }
    }
  } else {
    // 3D code: bit 4·k0 + 2·k1 + k2 = plane c0's 2D code | plane (c0+1)'s 2D code << 4.
    let below = new Uint8Array(planeSize);
    let above = new Uint8Array(planeSize);
    planeCodes(0, below);
    for (let c0 = 0; c0 < g[0]!; c0++) {
      planeCodes(c0 + 1, above);
      const base = c0 * planeSize;
      for (let i = 0; i < planeSize; i++) {
        const c = below[i]! | (above[i]! << 4);
        codes[base + i] = c;
        if (c !== 0 && c !== 255) {
          border[base + i] = 1;
          surfels++;
        }
      }
      [below, above] = [above, below];
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
 * Grid offsets within `tolerance` (mm) of the origin, nearest first. The distance of an offset is
 * formed exactly like the EDT's (and scipy's): sqrt(((Δ0·s0)² + (Δ1·s1)²) + (Δ2·s2)²).
 */
function offsetsWithin(grid: readonly number[], spacing: readonly number[], tolerance: number): Int32Array {
  const reach = spacing.map((s, axis) => Math.min(Math.floor(tolerance / s), grid[axis]! - 1));
  const strides = grid.map((_, axis) => grid.slice(axis + 1).reduce((x, y) => x * y, 1));
  const found: { offset: number; distance: number }[] = [];
  const visit = (axis: number, offset: number, sumSq: number) => {
    if (axis === grid.length) {
      const distance = Math.sqrt(sumSq);
      if (distance <= tolerance) found.push({ offset, distance });
      return;
    }
    for (let d = -reach[axis]!; d <= reach[axis]!; d++) {
      const t = d * spacing[axis]!;
      visit(axis + 1, offset + d * strides[axis]!, sumSq + t * t);
    }
  };
  visit(0, 0, 0);
  found.sort((a, b) => a.distance - b.distance);
  return Int32Array.from(found, (f) => f.offset);
}

/** Like accumulateWithin, testing each surfel against the other surface's corners at `offsets`. */
function accumulateWithinByOffsets(
  from: CornerCodes,
  to: CornerCodes,
  grid: readonly number[],
  offsets: Int32Array,
  spacing: readonly number[],
  tolerance: number,
  table: Float64Array,
): [number, number] {
  // 2D is handled as one plane of a 3D grid (a unit leading axis with no reach).
  const is3d = grid.length === 3;
  const g = is3d ? [grid[0]!, grid[1]!, grid[2]!] : [1, grid[0]!, grid[1]!];
  const s = is3d ? [spacing[0]!, spacing[1]!, spacing[2]!] : [1, spacing[0]!, spacing[1]!];
  const r = s.map((x, axis) => (axis === 0 && !is3d ? 0 : Math.floor(tolerance / x)));
  const [g0, g1, g2] = g as [number, number, number];
  const [r0, r1, r2] = r as [number, number, number];
  const { codes, border } = from;
  const target = to.border;
  let total = 0;
  let within = 0;
  let i = 0;
  for (let c0 = 0; c0 < g0; c0++) {
    const edge0 = c0 < r0 || c0 >= g0 - r0;
    for (let c1 = 0; c1 < g1; c1++) {
      const edge01 = edge0 || c1 < r1 || c1 >= g1 - r1;
      for (let c2 = 0; c2 < g2; c2++, i++) {
        if (border[i] === 0) continue;
        const area = table[codes[i]!]!;
        total += area;
        let hit = false;
        if (edge01 || c2 < r2 || c2 >= g2 - r2) {
          // Near the grid's border flat offsets would wrap around: check coordinates instead.
          hit = boundedProbe(target, g, s, r, c0, c1, c2, tolerance);
        } else {
          for (let k = 0; k < offsets.length; k++) {
            if (target[i + offsets[k]!] !== 0) {
              hit = true;
              break;
            }
          }
        }
        if (hit) within += area;
      }
    }
  }
  return [total, within];
}

/** Is a corner of `target` within `tolerance` of corner (c0, c1, c2)? Bounds-checked, for border surfels. */
function boundedProbe(
  target: Uint8Array,
  [g0, g1, g2]: number[],
  [s0, s1, s2]: number[],
  [r0, r1, r2]: number[],
  c0: number,
  c1: number,
  c2: number,
  tolerance: number,
): boolean {
  for (let z = Math.max(0, c0 - r0!); z <= Math.min(g0! - 1, c0 + r0!); z++) {
    const t0 = (z - c0) * s0!;
    const a0 = t0 * t0;
    for (let y = Math.max(0, c1 - r1!); y <= Math.min(g1! - 1, c1 + r1!); y++) {
      const t1 = (y - c1) * s1!;
      const a01 = a0 + t1 * t1;
      const row = (z * g1! + y) * g2!;
      for (let x = Math.max(0, c2 - r2!); x <= Math.min(g2! - 1, c2 + r2!); x++) {
        const t2 = (x - c2) * s2!;
        if (target[row + x] !== 0 && Math.sqrt(a01 + t2 * t2) <= tolerance) return true;
      }
    }
  }
  return false;
}

/**
 * Surface overlap of masks A and B at `tolerance` (mm), computed on `box` (which must contain both
 * masks). Only "is the nearest surfel of the other mask within the tolerance?" is needed, so per
 * direction the cheaper of two exact methods runs: probing the grid offsets within the tolerance
 * around each surfel (few surfels, small tolerance in voxels), or a Felzenszwalb–Huttenlocher EDT
 * over the box's corner grid capped at the tolerance.
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
  const gridSize = codesA.codes.length;
  let offsets: Int32Array | undefined;
  const reachVolume = spacing.reduce((acc, s) => acc * (2 * Math.floor(tolerance / s) + 1), 1);
  const side = (from: CornerCodes, to: CornerCodes): [number, number] => {
    if (to.surfels === 0) return accumulateWithin(from, null, table, tolerance);
    // Offset probing costs up to reachVolume per surfel; the EDT a few passes over the grid.
    if (from.surfels * reachVolume < 6 * gridSize) {
      offsets ??= offsetsWithin(grid, spacing, tolerance);
      return accumulateWithinByOffsets(from, to, grid, offsets, spacing, tolerance, table);
    }
    // One distance map at a time: on a full 300×512×512 box each is ~630 MB.
    return accumulateWithin(
      from,
      squaredDistanceTransform(to.border, grid, spacing, tolerance),
      table,
      tolerance,
    );
  };
  const [areaA, areaAWithin] = side(codesA, codesB);
  const [areaB, areaBWithin] = side(codesB, codesA);
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
