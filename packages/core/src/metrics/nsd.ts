/**
 * Normalised surface Dice (NSD, "surface Dice at tolerance τ", Nikolov et al. 2021) as DeepMind's
 * `compute_surface_dice_at_tolerance`: (Σ area_A[d_A→B ≤ τ] + Σ area_B[d_B→A ≤ τ]) / (Σ area_A + Σ area_B),
 * with surfels and distances from surfaceDistance.ts.
 */
import { surfaceOverlapInBox, unionBoundingBox, type SurfaceOverlap } from "./surfaceDistance.js";

/** Surface Dice from surfel totals; NaN when neither mask has a surface. */
export function surfaceDice(overlap: SurfaceOverlap): number {
  return (overlap.areaAWithin + overlap.areaBWithin) / (overlap.areaA + overlap.areaB);
}

/**
 * NSD of two binary masks (non-zero = inside) of `shape` (2D: contour lengths, 3D: surface areas),
 * `spacing` in mm per array axis and tolerance in mm. One mask empty → 0; both empty → `bothEmpty` (1).
 * Work is confined to the bounding box of the two masks.
 */
export function normalizedSurfaceDice(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
  toleranceMm: number,
  bothEmpty = 1,
): number {
  const size = shape.reduce((a, b) => a * b, 1);
  if (pred.length !== size || gt.length !== size) {
    throw new RangeError(
      `nsd: masks have ${pred.length} and ${gt.length} elements, shape (${shape.join(", ")}) needs ${size}`,
    );
  }
  if (!(toleranceMm >= 0)) throw new RangeError(`nsd: tolerance must be ≥ 0, got ${toleranceMm}`);
  const a = { data: pred, label: null };
  const b = { data: gt, label: null };
  const box = unionBoundingBox(a, b, shape);
  if (!box) return bothEmpty;
  const overlap = surfaceOverlapInBox(a, b, shape, spacing, box, toleranceMm);
  if (overlap.areaA === 0 || overlap.areaB === 0) return 0;
  return surfaceDice(overlap);
}
