/**
 * 3D scores by slice position within each object. A volume is segmented slice by slice from the box's middle slice
 * outwards, each slice prompted by its neighbour's mask, so errors that build up along the walk, or a model that
 * fills a prompt larger than a shrinking object, show at the object's ends and hide in a volume DSC. This table sums
 * voxels per position band of the ground-truth object's z extent: near its ends, between, in the middle, and
 * predicted on slices the object does not reach. It is how the 2026-11-27 analysis found the CPU-interim MR expert
 * predicting 2.3× the true area on the outer fifths of each hippocampus and 1.2× in between.
 */

/** Position bands along the object's z extent, by distance from the nearer end (relative to the extent). */
export const SLICE_POSITIONS = [
  "ends (outer 20 %)",
  "20–40 % from an end",
  "middle 20 %",
  "outside the object's slices",
] as const;
export type SlicePosition = (typeof SLICE_POSITIONS)[number];

/** Voxel counts of one label per position band (index = SLICE_POSITIONS index). */
export interface SlicePositionCounts {
  slices: number[];
  gtVoxels: number[];
  predVoxels: number[];
  bothVoxels: number[];
}

/**
 * Bands one label's per-slice counts (index = z). The object's extent is the first to the last slice with
 * ground truth; slice z sits at (z − first + 0.5) / extent and belongs to the band of its distance from the nearer
 * end (< 0.2, < 0.4, else middle). Slices outside the extent count only when the prediction has voxels there.
 * Null when the label has no ground truth (no extent to band by).
 */
export function bandSliceCounts(
  gt: ArrayLike<number>,
  pred: ArrayLike<number>,
  both: ArrayLike<number>,
): SlicePositionCounts | null {
  let first = -1;
  let last = -1;
  for (let z = 0; z < gt.length; z++) {
    if (gt[z]! > 0) {
      if (first < 0) first = z;
      last = z;
    }
  }
  if (first < 0) return null;
  const extent = last - first + 1;
  const counts: SlicePositionCounts = {
    slices: [0, 0, 0, 0],
    gtVoxels: [0, 0, 0, 0],
    predVoxels: [0, 0, 0, 0],
    bothVoxels: [0, 0, 0, 0],
  };
  for (let z = 0; z < gt.length; z++) {
    let band: number;
    if (z < first || z > last) {
      if (!(pred[z]! > 0)) continue;
      band = 3;
    } else {
      const rel = (z - first + 0.5) / extent;
      const fromEnd = Math.min(rel, 1 - rel);
      band = fromEnd < 0.2 ? 0 : fromEnd < 0.4 ? 1 : 2;
    }
    counts.slices[band]!++;
    counts.gtVoxels[band]! += gt[z]!;
    counts.predVoxels[band]! += pred[z]!;
    counts.bothVoxels[band]! += both[z]!;
  }
  return counts;
}

export interface SlicePositionRow {
  modality: string;
  position: SlicePosition;
  objects: number;
  slices: number;
  gtVoxels: number;
  predVoxels: number;
  /** DSC of the band's summed voxel counts (null when the band has neither ground truth nor prediction). */
  dsc: number | null;
  /** Summed predicted / true voxels (null when the band has no ground truth: "outside"). */
  volumeRatio: number | null;
}

/** Rows per modality (code-point order) and band (SLICE_POSITIONS order); bands without slices are left out. */
export function summarizeBySlicePosition(
  objects: readonly { modality: string; counts: SlicePositionCounts }[],
): SlicePositionRow[] {
  const byModality = new Map<string, SlicePositionCounts[]>();
  for (const o of objects) {
    const group = byModality.get(o.modality);
    if (group) group.push(o.counts);
    else byModality.set(o.modality, [o.counts]);
  }
  const rows: SlicePositionRow[] = [];
  for (const modality of [...byModality.keys()].sort()) {
    const group = byModality.get(modality)!;
    SLICE_POSITIONS.forEach((position, band) => {
      const sum = (key: keyof SlicePositionCounts) => group.reduce((s, c) => s + c[key][band]!, 0);
      const slices = sum("slices");
      if (slices === 0) return;
      const gt = sum("gtVoxels");
      const pred = sum("predVoxels");
      rows.push({
        modality,
        position,
        objects: group.filter((c) => c.slices[band]! > 0).length,
        slices,
        gtVoxels: gt,
        predVoxels: pred,
        dsc: gt + pred === 0 ? null : (2 * sum("bothVoxels")) / (gt + pred),
        volumeRatio: gt === 0 ? null : pred / gt,
      });
    });
  }
  return rows;
}

export function formatSlicePositionMarkdown(rows: readonly SlicePositionRow[]): string {
  const fmt = (x: number | null, digits: number) => (x === null ? "–" : x.toFixed(digits));
  return [
    "| modality | position in the object's z extent | objects | slices | true voxels | predicted voxels | DSC of the sums | predicted / true |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.modality} | ${r.position} | ${r.objects} | ${r.slices} | ${r.gtVoxels} | ${r.predVoxels} | ` +
        `${fmt(r.dsc, 4)} | ${fmt(r.volumeRatio, 3)} |`,
    ),
    "",
  ].join("\n");
}
