/**
 * Aggregation of per-case scores into per-modality and overall means, and their Markdown table.
 * NaN case scores (e.g. a case whose gt has no label) are left out of the means and counted apart.
 */

export interface CaseScore {
  case: string;
  modality: string;
  dsc: number;
  nsd: number;
}

export interface ScoreMean {
  /** Cases in the group. */
  cases: number;
  /** Means over the cases whose score is a number (null when none is). */
  meanDsc: number | null;
  meanNsd: number | null;
  /** Cases left out of the DSC mean because their DSC is NaN. */
  nanDscCases: number;
}

export interface ModalityScore extends ScoreMean {
  modality: string;
}

export interface ScoreSummary {
  modalities: ModalityScore[];
  /** Mean over all cases. */
  overall: ScoreMean;
  /** Mean of the per-modality means (each modality weighs the same). */
  meanOverModalities: { meanDsc: number | null; meanNsd: number | null };
}

const CHALLENGE_NAME = /^(?:2D|3D)Box_([A-Za-z0-9-]+)_/;

/** Modality from a challenge file name `2DBox_<Modality>_…` / `3DBox_<Modality>_…`, else "unknown". */
export function modalityFromCaseName(name: string): string {
  const base = name.replace(/^.*[\\/]/, "");
  return CHALLENGE_NAME.exec(base)?.[1] ?? "unknown";
}

/** Mean of the values that are not NaN; null when none is. */
export function meanOf(values: number[]): number | null {
  const finite = values.filter((v) => !Number.isNaN(v));
  return finite.length === 0 ? null : finite.reduce((a, b) => a + b, 0) / finite.length;
}

function groupMean(scores: CaseScore[]): ScoreMean {
  return {
    cases: scores.length,
    meanDsc: meanOf(scores.map((s) => s.dsc)),
    meanNsd: meanOf(scores.map((s) => s.nsd)),
    nanDscCases: scores.filter((s) => Number.isNaN(s.dsc)).length,
  };
}

export function summarizeScores(scores: readonly CaseScore[]): ScoreSummary {
  const byModality = new Map<string, CaseScore[]>();
  for (const s of scores) {
    const group = byModality.get(s.modality) ?? [];
    group.push(s);
    byModality.set(s.modality, group);
  }
  const modalities = [...byModality.keys()]
    .sort()
    .map((modality) => ({ modality, ...groupMean(byModality.get(modality)!) }));
  const meanOrNull = (values: (number | null)[]) => meanOf(values.filter((v): v is number => v !== null));
  return {
    modalities,
    overall: groupMean([...scores]),
    meanOverModalities: {
      meanDsc: meanOrNull(modalities.map((m) => m.meanDsc)),
      meanNsd: meanOrNull(modalities.map((m) => m.meanNsd)),
    },
  };
}

function fmt(value: number | null): string {
  return value === null ? "n/a" : value.toFixed(4);
}

/** Markdown table: one row per modality, then the overall mean over cases and over modalities. */
export function formatSummaryMarkdown(summary: ScoreSummary): string {
  const rows = [
    "| modality | cases | mean DSC | mean NSD |",
    "| --- | ---: | ---: | ---: |",
    ...summary.modalities.map(
      (m) => `| ${m.modality} | ${m.cases} | ${fmt(m.meanDsc)} | ${fmt(m.meanNsd)} |`,
    ),
    `| **all cases** | ${summary.overall.cases} | ${fmt(summary.overall.meanDsc)} | ${fmt(summary.overall.meanNsd)} |`,
    `| **mean over modalities** | ${summary.modalities.length} | ${fmt(summary.meanOverModalities.meanDsc)} | ${fmt(summary.meanOverModalities.meanNsd)} |`,
  ];
  const nan = summary.overall.nanDscCases;
  if (nan > 0)
    rows.push(
      "",
      `${nan} case(s) with DSC NaN (no gt label, or a label absent from gt and prediction) are left out of the DSC means.`,
    );
  return `${rows.join("\n")}\n`;
}
