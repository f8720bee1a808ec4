/**
 * One case scored exactly as the CVPR24 "Segment Anything in Medical Images on Laptop" challenge did
 * (its compute_metrics.py on top of DeepMind's surface-distance code):
 *
 * - labels are 1..max(gt); a label missing from the prediction scores DSC 0, a label missing from both
 *   gives DSC NaN (compute_dice_coefficient), which makes the case mean NaN too;
 * - case DSC = mean of the label DSCs;
 * - NSD is computed only when the CASE DSC is > 0.2 (otherwise every label's NSD is 0), at tolerance
 *   2 mm with the case spacing in 3D;
 * - 2D cases: the challenge called the 3D code on (H, W, 1) arrays with spacing (1, 1, 1), so surfels
 *   include the top and bottom faces of the one-pixel slab and the tolerance is 2 pixels. That is the
 *   default here (`surface2d: "slab"`); `"contour"` scores 2D masks by their contour lengths instead.
 *
 * Per-label work is confined to the union bounding box of that label in gt and prediction, so hundreds
 * of small labels (nuclei) cost little.
 */
import { diceFromCounts } from "./dsc.js";
import { surfaceDice } from "./nsd.js";
import { bandSliceCounts, type SlicePositionCounts } from "./slicePosition.js";
import { surfaceOverlapInBox, type VoxelBox } from "./surfaceDistance.js";

export interface EvaluateCaseInput {
  /** Predicted label map, C order. */
  pred: ArrayLike<number>;
  /** Ground-truth label map, same shape. */
  gt: ArrayLike<number>;
  /** (H, W) or (D, H, W). */
  shape: readonly number[];
  /** Spacing in mm per array axis; required for 3D, (1, 1) by default in 2D. */
  spacing?: readonly number[];
  /** NSD tolerance: mm in 3D, pixels (with spacing 1) in 2D. Default 2. */
  tolerance?: number;
  /** How 2D surfaces are measured; see the module comment. Default "slab" (the challenge's). */
  surface2d?: "slab" | "contour";
}

export interface LabelMetrics {
  label: number;
  dsc: number;
  nsd: number;
  gtVoxels: number;
  predVoxels: number;
  /** 3D only: voxel counts by position along the object's z extent (slicePosition.ts); absent in 2D. */
  slicePosition?: SlicePositionCounts | null;
}

export interface CaseMetrics {
  labels: LabelMetrics[];
  /** Mean label DSC (NaN when gt has no label or a label is absent from both). */
  dsc: number;
  /** Mean label NSD when dsc > 0.2, else 0. */
  nsd: number;
  /** Whether the DSC gate let NSD be computed. */
  nsdComputed: boolean;
}

/** Minimum case DSC for which the challenge computed NSD. */
export const NSD_DSC_GATE = 0.2;

interface LabelStats {
  gtCount: Float64Array;
  predCount: Float64Array;
  both: Float64Array;
  /** Per label, per axis: [lo0, lo1, lo2, hi0, hi1, hi2] of gt ∪ pred (3D-normalised). */
  box: Int32Array;
  /** With per-slice counting: gt, pred and intersection voxels of label l on slice z at [l * depth + z]. */
  perSlice?: { gt: Uint32Array; pred: Uint32Array; both: Uint32Array };
}

/** Per-slice counts are kept when labels × slices stay under this (3 × 16 MB of counters at most). */
const MAX_PER_SLICE_COUNTERS = 4_000_000;

function maxLabelOf(gt: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < gt.length; i++) if (gt[i]! > max) max = gt[i]!;
  return Math.floor(max);
}

/** One pass: voxel counts, intersections and union boxes of labels 1..maxLabel. */
function collectLabelStats(
  gt: ArrayLike<number>,
  pred: ArrayLike<number>,
  dims3: readonly [number, number, number],
  maxLabel: number,
  perSlice: boolean,
): LabelStats {
  const n = maxLabel + 1;
  const gtCount = new Float64Array(n);
  const predCount = new Float64Array(n);
  const both = new Float64Array(n);
  const box = new Int32Array(n * 6);
  for (let l = 0; l < n; l++) box.set([2 ** 30, 2 ** 30, 2 ** 30, -1, -1, -1], l * 6);
  const grow = (l: number, z: number, y: number, x: number) => {
    const o = l * 6;
    if (z < box[o]!) box[o] = z;
    if (y < box[o + 1]!) box[o + 1] = y;
    if (x < box[o + 2]!) box[o + 2] = x;
    if (z > box[o + 3]!) box[o + 3] = z;
    if (y > box[o + 4]!) box[o + 4] = y;
    if (x > box[o + 5]!) box[o + 5] = x;
  };
  const [d0, d1, d2] = dims3;
  const slices = perSlice
    ? { gt: new Uint32Array(n * d0), pred: new Uint32Array(n * d0), both: new Uint32Array(n * d0) }
    : undefined;
  let i = 0;
  for (let z = 0; z < d0; z++) {
    for (let y = 0; y < d1; y++) {
      for (let x = 0; x < d2; x++, i++) {
        const g = gt[i]!;
        const p = pred[i]!;
        if (g === 0 && p === 0) continue;
        const gIsLabel = g >= 1 && g <= maxLabel && Number.isInteger(g);
        const pIsLabel = p >= 1 && p <= maxLabel && Number.isInteger(p);
        if (gIsLabel) {
          gtCount[g]!++;
          grow(g, z, y, x);
          if (slices) slices.gt[g * d0 + z]!++;
        }
        if (pIsLabel) {
          predCount[p]!++;
          if (slices) slices.pred[p * d0 + z]!++;
          if (p === g) {
            both[p]!++;
            if (slices) slices.both[p * d0 + z]!++;
          } else grow(p, z, y, x);
        }
      }
    }
  }
  return { gtCount, predCount, both, box, perSlice: slices };
}

function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function evaluateCase(input: EvaluateCaseInput): CaseMetrics {
  const { pred, gt, shape } = input;
  const dims = shape.length;
  if (dims !== 2 && dims !== 3)
    throw new RangeError(`evaluate: masks must be 2D or 3D, got shape (${shape.join(", ")})`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (gt.length !== size || pred.length !== size) {
    throw new RangeError(
      `evaluate: gt has ${gt.length} and prediction ${pred.length} elements, shape needs ${size}`,
    );
  }
  const spacing = input.spacing ?? (dims === 2 ? [1, 1] : undefined);
  if (!spacing || spacing.length !== dims) {
    throw new RangeError(
      `evaluate: a ${dims}D case needs ${dims} spacing values, got ${spacing ? spacing.length : "none"}`,
    );
  }
  const tolerance = input.tolerance ?? 2;
  const slab = dims === 2 && (input.surface2d ?? "slab") === "slab";
  // Geometry used for surfaces: 3D as is, 2D either as (H, W, 1) slabs or as 2D contours.
  const surfaceShape = slab ? [shape[0]!, shape[1]!, 1] : [...shape];
  const surfaceSpacing = slab ? [spacing[0]!, spacing[1]!, 1] : [...spacing];
  const dims3: [number, number, number] =
    dims === 3 ? [shape[0]!, shape[1]!, shape[2]!] : [1, shape[0]!, shape[1]!];

  const maxLabel = maxLabelOf(gt);
  const perSlice = dims === 3 && (maxLabel + 1) * dims3[0] <= MAX_PER_SLICE_COUNTERS;
  const stats = collectLabelStats(gt, pred, dims3, maxLabel, perSlice);
  const labels: LabelMetrics[] = [];
  for (let l = 1; l <= maxLabel; l++) {
    const gtVoxels = stats.gtCount[l]!;
    const predVoxels = stats.predCount[l]!;
    const dsc = diceFromCounts(gtVoxels, predVoxels, stats.both[l]!, NaN);
    const label: LabelMetrics = { label: l, dsc, nsd: 0, gtVoxels, predVoxels };
    if (stats.perSlice) {
      const at = (a: Uint32Array) => a.subarray(l * dims3[0], (l + 1) * dims3[0]);
      const s = stats.perSlice;
      label.slicePosition = bandSliceCounts(at(s.gt), at(s.pred), at(s.both));
    }
    labels.push(label);
  }
  const dsc = mean(labels.map((m) => m.dsc));
  const nsdComputed = dsc > NSD_DSC_GATE;
  if (nsdComputed) {
    for (const m of labels) {
      if (m.gtVoxels === 0 || m.predVoxels === 0) continue; // one side empty: NSD 0
      const o = m.label * 6;
      const b = Array.from(stats.box.subarray(o, o + 6));
      const box: VoxelBox =
        dims === 3
          ? { lo: b.slice(0, 3), hi: b.slice(3, 6) }
          : slab
            ? { lo: [b[1]!, b[2]!, 0], hi: [b[4]!, b[5]!, 0] }
            : { lo: [b[1]!, b[2]!], hi: [b[4]!, b[5]!] };
      const overlap = surfaceOverlapInBox(
        { data: gt, label: m.label },
        { data: pred, label: m.label },
        surfaceShape,
        surfaceSpacing,
        box,
        tolerance,
      );
      m.nsd = surfaceDice(overlap);
    }
  }
  const nsd = nsdComputed ? mean(labels.map((m) => m.nsd)) : 0;
  return { labels, dsc, nsd, nsdComputed };
}
