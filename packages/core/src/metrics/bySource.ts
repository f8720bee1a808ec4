/**
 * Scores by source dataset and by label, within each modality: what a modality's row averages over. A modality may
 * mix sources of very different difficulty (BraTS's tumour sub-regions and the hippocampus are both MR), and a
 * source's labels may mean fixed structures (necrosis, edema, …; optic disc and cup) whose scores differ far more
 * than their mean shows — nnU-Net reports its means per class for the same reason.
 *
 * The source is the dataset part of a challenge case name, `2DBox_<Modality>_<dataset>_<case>`; other names share
 * one source, "-". Per-label means are given for sources whose cases never have more than MAX_CLASS_LABELS labels:
 * beyond that the labels number instances (nuclei), and "label 7" means nothing across cases.
 */
import { meanOf } from "./summary.js";

/** More labels than this in one case of a source: its labels are instances, not classes. */
export const MAX_CLASS_LABELS = 8;

export interface CaseLabelScores {
  case: string;
  modality: string;
  dsc: number;
  nsd: number;
  /** Per label of the case (label value, its DSC and NSD, ground-truth voxels). */
  labels: readonly { label: number; dsc: number; nsd: number; gtVoxels: number }[];
}

export interface LabelScore {
  label: number;
  /** Cases whose ground truth holds the label. */
  objects: number;
  meanDsc: number | null;
  meanNsd: number | null;
}

export interface SourceScore {
  modality: string;
  source: string;
  cases: number;
  meanDsc: number | null;
  meanNsd: number | null;
  /** Per class label (cases whose ground truth holds it); null when the source's labels are instances. */
  labels: LabelScore[] | null;
  /** The most labels one of its cases has. */
  maxLabels: number;
}

const CHALLENGE_SOURCE = /^(?:2D|3D)Box_[A-Za-z0-9-]+_([^_]+)_/;

/** The dataset of a challenge case name `2DBox_<Modality>_<dataset>_<case>`, else "-". */
export function sourceFromCaseName(name: string): string {
  const base = name.replace(/^.*[\\/]/, "");
  return CHALLENGE_SOURCE.exec(base)?.[1] ?? "-";
}

export function summarizeBySource(cases: readonly CaseLabelScores[]): SourceScore[] {
  const groups = new Map<string, CaseLabelScores[]>();
  for (const c of cases) {
    const key = `${c.modality}\u0000${sourceFromCaseName(c.case)}`;
    const group = groups.get(key);
    if (group) group.push(c);
    else groups.set(key, [c]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, group]) => {
      const [modality, source] = key.split("\u0000") as [string, string];
      const maxLabels = Math.max(0, ...group.map((c) => c.labels.filter((l) => l.gtVoxels > 0).length));
      let labels: LabelScore[] | null = null;
      if (maxLabels <= MAX_CLASS_LABELS) {
        const byLabel = new Map<number, { dsc: number[]; nsd: number[] }>();
        for (const c of group)
          for (const l of c.labels) {
            if (l.gtVoxels === 0) continue;
            let s = byLabel.get(l.label);
            if (!s) byLabel.set(l.label, (s = { dsc: [], nsd: [] }));
            s.dsc.push(l.dsc);
            s.nsd.push(l.nsd);
          }
        labels = [...byLabel.entries()]
          .sort(([a], [b]) => a - b)
          .map(([label, s]) => ({
            label,
            objects: s.dsc.length,
            meanDsc: meanOf(s.dsc),
            meanNsd: meanOf(s.nsd),
          }));
      }
      return {
        modality,
        source,
        cases: group.length,
        meanDsc: meanOf(group.map((c) => c.dsc)),
        meanNsd: meanOf(group.map((c) => c.nsd)),
        labels,
        maxLabels,
      };
    });
}

/** Worth a section: some modality mixes sources, or some source has several class labels. */
export function bySourceIsInformative(rows: readonly SourceScore[]): boolean {
  const modalities = new Set(rows.map((r) => r.modality));
  return modalities.size < rows.length || rows.some((r) => r.labels !== null && r.labels.length > 1);
}

const fmt = (v: number | null) => (v === null ? "n/a" : v.toFixed(4));
const short = (v: number | null) => (v === null ? "n/a" : v.toFixed(3));

/** Markdown table: a row per source, its class labels' means in the last column. */
export function formatBySourceMarkdown(rows: readonly SourceScore[]): string {
  const perLabel = (r: SourceScore) =>
    r.labels === null
      ? `instances (up to ${r.maxLabels} per case)`
      : r.labels.length <= 1
        ? ""
        : r.labels
            .map((l) => `${l.label}: ${short(l.meanDsc)} / ${short(l.meanNsd)} (${l.objects})`)
            .join(" · ");
  return [
    "| modality | source | cases | mean DSC | mean NSD | per label: DSC / NSD (cases with it) |",
    "| --- | --- | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.modality} | ${r.source} | ${r.cases} | ${fmt(r.meanDsc)} | ${fmt(r.meanNsd)} | ${perLabel(r)} |`,
    ),
    "",
  ].join("\n");
}
