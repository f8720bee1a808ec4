/**
 * Does the mask confidence `daft segment` reports (pipeline/maskConfidence.ts) find the bad masks on this data?
 * Given each scored object's DSC and confidence, per modality and pooled:
 *   - the Spearman rank correlation of confidence with DSC (1: confidence orders masks exactly by quality);
 *   - review triage: of the failed objects (DSC below `failBelow`), how many a reviewer meets by looking at the
 *     least confident `review` share of each modality's objects first (chance: that share of them).
 * `daft eval` prints it when the predictions' folder holds daft segment's objects.csv; the README's figures come
 * from scripts/mask_confidence_report.mjs, which adds the decoder's own IoU prediction for comparison.
 */

export interface ScoredObject {
  modality: string;
  dsc: number;
  confidence: number;
}

export interface ConfidenceTriageRow {
  /** A modality, or "all objects" for the pooled row. */
  group: string;
  objects: number;
  /** Spearman's rho of confidence with DSC; NaN when either is constant (or fewer than two objects). */
  spearman: number;
  failures: number;
  /** Failures among the objects reviewed first (pooled: the sum over modalities). */
  caught: number;
  /** Objects reviewed first (the least confident `review` share, at least one). */
  reviewed: number;
}

export interface TriageOptions {
  /** Share of each modality's objects reviewed first (default 0.1). */
  review?: number;
  /** An object fails below this DSC (default 0.5). */
  failBelow?: number;
}

export const POOLED_GROUP = "all objects";

export function confidenceTriage(
  objects: readonly ScoredObject[],
  options: TriageOptions = {},
): ConfidenceTriageRow[] {
  const review = options.review ?? 0.1;
  const failBelow = options.failBelow ?? 0.5;
  const byModality = new Map<string, ScoredObject[]>();
  for (const o of objects) {
    const list = byModality.get(o.modality);
    if (list) list.push(o);
    else byModality.set(o.modality, [o]);
  }
  const rows = [...byModality.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([modality, list]): ConfidenceTriageRow => {
      const reviewed = Math.max(1, Math.round(review * list.length));
      const first = [...list].sort((a, b) => a.confidence - b.confidence).slice(0, reviewed);
      return {
        group: modality,
        objects: list.length,
        spearman: spearman(
          list.map((o) => o.confidence),
          list.map((o) => o.dsc),
        ),
        failures: list.filter((o) => o.dsc < failBelow).length,
        caught: first.filter((o) => o.dsc < failBelow).length,
        reviewed,
      };
    });
  const sum = (key: "objects" | "failures" | "caught" | "reviewed") => rows.reduce((s, r) => s + r[key], 0);
  rows.push({
    group: POOLED_GROUP,
    objects: sum("objects"),
    spearman: spearman(
      objects.map((o) => o.confidence),
      objects.map((o) => o.dsc),
    ),
    failures: sum("failures"),
    caught: sum("caught"),
    reviewed: sum("reviewed"),
  });
  return rows;
}

/** Spearman's rank correlation (ties get their average rank); NaN when either side is constant. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} and ${y.length} values`);
  const rx = ranks(x);
  const ry = ranks(y);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const mx = mean(rx);
  const my = mean(ry);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** 1-based ranks, ties averaged. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** The triage as a markdown table. */
export function formatConfidenceTriageMarkdown(
  rows: readonly ConfidenceTriageRow[],
  options: TriageOptions = {},
): string {
  const review = Math.round((options.review ?? 0.1) * 100);
  const failBelow = options.failBelow ?? 0.5;
  const lines = [
    `| modality | objects | Spearman: confidence vs DSC | failures (DSC < ${failBelow}) | met reviewing the ${review} % least confident |`,
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const name = r.group === POOLED_GROUP ? `**${r.group}**` : r.group;
      const rho = Number.isNaN(r.spearman) ? "–" : r.spearman.toFixed(2);
      const met = r.failures === 0 ? "–" : `${r.caught}/${r.failures}`;
      return `| ${name} | ${r.objects} | ${rho} | ${r.failures} | ${met} |`;
    }),
  ];
  return `${lines.join("\n")}\n`;
}
