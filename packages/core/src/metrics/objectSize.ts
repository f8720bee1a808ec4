/**
 * Scores by object size: whether a model under- or over-segments small objects is invisible in a mean DSC
 * (a few hundred nuclei of 5 px weigh as much as one lung) but plain in the predicted/true volume ratio per
 * size bin. This table is how the 2026-11-27 box-jitter bug was found: nuclei under 8 px got 0.48× their area.
 */

/** One ground-truth object (a label of a case). */
export interface ObjectScore {
  modality: string;
  /** 2 for images, 3 for volumes: the equivalent side is gtVoxels^(1/dims). */
  dims: number;
  gtVoxels: number;
  predVoxels: number;
  dsc: number;
}

export interface ObjectSizeRow {
  modality: string;
  /** e.g. "< 8", "8–16", "≥ 64" (equivalent side in pixels / voxels). */
  bin: string;
  objects: number;
  /** Mean DSC of the objects whose DSC is a number (null when none is). */
  meanDsc: number | null;
  /** Median of predicted / true voxel counts: < 1 under-segments, > 1 over-segments. */
  medianVolumeRatio: number;
}

/** Bin edges of the equivalent side (side of the square / cube with the object's area / volume). */
export const OBJECT_SIZE_EDGES: readonly number[] = [8, 16, 32, 64];

function binOf(side: number): number {
  let i = 0;
  while (i < OBJECT_SIZE_EDGES.length && side >= OBJECT_SIZE_EDGES[i]!) i++;
  return i;
}

function binName(i: number): string {
  const edges = OBJECT_SIZE_EDGES;
  if (i === 0) return `< ${edges[0]}`;
  if (i === edges.length) return `≥ ${edges[edges.length - 1]}`;
  return `${edges[i - 1]}–${edges[i]}`;
}

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Rows per modality (code-point order, as the summary) and size bin (ascending); objects without ground truth are left out. */
export function summarizeByObjectSize(objects: readonly ObjectScore[]): ObjectSizeRow[] {
  const groups = new Map<string, ObjectScore[]>();
  for (const o of objects) {
    if (!(o.gtVoxels > 0)) continue;
    const key = `${o.modality}\u0000${binOf(o.gtVoxels ** (1 / o.dims))}`;
    const group = groups.get(key);
    if (group) group.push(o);
    else groups.set(key, [o]);
  }
  const rows = [...groups.entries()].map(([key, group]) => {
    const [modality, bin] = key.split("\u0000") as [string, string];
    const dscs = group.map((o) => o.dsc).filter((d) => !Number.isNaN(d));
    return {
      sortBin: Number(bin),
      row: {
        modality,
        bin: binName(Number(bin)),
        objects: group.length,
        meanDsc: dscs.length === 0 ? null : dscs.reduce((a, b) => a + b, 0) / dscs.length,
        medianVolumeRatio: median(group.map((o) => o.predVoxels / o.gtVoxels).sort((a, b) => a - b)),
      },
    };
  });
  rows.sort((a, b) =>
    a.row.modality === b.row.modality ? a.sortBin - b.sortBin : a.row.modality < b.row.modality ? -1 : 1,
  );
  return rows.map((r) => r.row);
}

export function formatObjectSizeMarkdown(rows: readonly ObjectSizeRow[]): string {
  const fmt = (x: number | null) => (x === null ? "–" : x.toFixed(4));
  return [
    "| modality | object size (px / voxels, equivalent side) | objects | mean DSC | median predicted / true volume |",
    "| --- | --- | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.modality} | ${r.bin} | ${r.objects} | ${fmt(r.meanDsc)} | ${r.medianVolumeRatio.toFixed(3)} |`,
    ),
    "",
  ].join("\n");
}
