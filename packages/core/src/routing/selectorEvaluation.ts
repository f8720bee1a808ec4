/**
 * Held-out evaluation of a selector: accuracy of the most probable modality, confusion matrix, per-modality
 * recall/precision, and what the threshold + novelty check do (share routed, accuracy of the routed cases).
 * Only meta-features are used: file names never enter.
 */
import { predictWithModel, type Selector, type SelectorModel } from "./selector.js";
import type { SelectorSample } from "./selectorTraining.js";

export interface SelectorModalityScore {
  modality: string;
  cases: number;
  correct: number;
  /** correct / cases */
  recall: number;
  /** correct / cases predicted as this modality (NaN when none was). */
  precision: number;
  /** Cases of this modality that passed threshold + novelty, and how many of those were right. */
  routed: number;
  routedCorrect: number;
}

export interface SelectorEvaluation {
  dimension: 2 | 3;
  cases: number;
  /** Accuracy of the most probable class (threshold ignored). */
  accuracy: number;
  /** Always answering the most frequent training modality (test majority when the model lacks training info). */
  majorityBaseline: { modality: string; accuracy: number; source: "train" | "test" };
  threshold: number;
  /** Share of cases that route (confidence ≥ threshold, not novel) and the accuracy among them. */
  routedShare: number;
  routedAccuracy: number;
  /** Cases that fall through to the fallback: below threshold / novel. */
  belowThreshold: number;
  novel: number;
  /** Row = true modality, column = predicted; both in `labels` order. */
  labels: string[];
  confusion: number[][];
  perModality: SelectorModalityScore[];
}

export interface SelectorEvaluationReport {
  "2d": SelectorEvaluation | null;
  "3d": SelectorEvaluation | null;
}

export function evaluateSelector(selector: Selector, samples: SelectorSample[]): SelectorEvaluationReport {
  const one = (dimension: 2 | 3) => {
    const model = dimension === 2 ? selector.models["2d"] : selector.models["3d"];
    const subset = samples.filter((s) => s.dimension === dimension);
    return model && subset.length > 0 ? evaluateModel(model, subset) : null;
  };
  return { "2d": one(2), "3d": one(3) };
}

export function evaluateModel(model: SelectorModel, samples: SelectorSample[]): SelectorEvaluation {
  const labels = [...new Set([...model.classes, ...samples.map((s) => s.label)])].sort();
  const at = new Map(labels.map((l, i) => [l, i]));
  const confusion = labels.map(() => labels.map(() => 0));
  const routed = labels.map(() => 0);
  const routedCorrect = labels.map(() => 0);
  let correct = 0;
  let routedAll = 0;
  let routedRight = 0;
  let belowThreshold = 0;
  let novel = 0;
  for (const s of samples) {
    const p = predictWithModel(model, s.values);
    const t = at.get(s.label)!;
    const q = at.get(p.modality)!;
    confusion[t]![q]!++;
    const right = t === q;
    if (right) correct++;
    if (p.routed) {
      routed[t]!++;
      routedAll++;
      if (right) {
        routedCorrect[t]!++;
        routedRight++;
      }
    } else if (model.novelty && p.distance > model.novelty.maxDistance) novel++;
    else belowThreshold++;
  }
  const perModality = labels.map((modality, i) => {
    const cases = confusion[i]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[i]!, 0);
    const hit = confusion[i]![i]!;
    return {
      modality,
      cases,
      correct: hit,
      recall: cases ? hit / cases : NaN,
      precision: predicted ? hit / predicted : NaN,
      routed: routed[i]!,
      routedCorrect: routedCorrect[i]!,
    };
  });
  const counts = model.training?.classCounts;
  let majority: SelectorEvaluation["majorityBaseline"];
  if (counts && Object.keys(counts).length > 0) {
    const modality = Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
    const hits = samples.filter((s) => s.label === modality).length;
    majority = { modality, accuracy: hits / samples.length, source: "train" };
  } else {
    const best = perModality.reduce((a, b) => (b.cases > a.cases ? b : a));
    majority = { modality: best.modality, accuracy: best.cases / samples.length, source: "test" };
  }
  return {
    dimension: model.dimension,
    cases: samples.length,
    accuracy: correct / samples.length,
    majorityBaseline: majority,
    threshold: model.threshold,
    routedShare: routedAll / samples.length,
    routedAccuracy: routedAll ? routedRight / routedAll : NaN,
    belowThreshold,
    novel,
    labels,
    confusion,
    perModality,
  };
}

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : "–");

/** Markdown report of both dimensions. `title` heads the document. */
export function selectorEvaluationMarkdown(report: SelectorEvaluationReport, title: string): string {
  const parts = [`# ${title}`, ""];
  for (const key of ["2d", "3d"] as const) {
    const e = report[key];
    if (!e) {
      parts.push(`## ${key.toUpperCase()}`, "", "No model or no cases of this dimension.", "");
      continue;
    }
    parts.push(`## ${key.toUpperCase()} — ${e.cases} cases`, "");
    parts.push(
      `- accuracy (most probable modality): **${pct(e.accuracy)}** (${Math.round(e.accuracy * e.cases)}/${e.cases})`,
    );
    parts.push(
      `- majority-class baseline (${e.majorityBaseline.modality}, from ${e.majorityBaseline.source}): ${pct(e.majorityBaseline.accuracy)}`,
    );
    parts.push(
      `- routed (confidence ≥ ${e.threshold.toFixed(3)} and not novel): ${pct(e.routedShare)}, ` +
        `accuracy of routed: ${pct(e.routedAccuracy)}; fallback: ${e.belowThreshold} below threshold, ${e.novel} novel`,
    );
    parts.push(
      "",
      "| modality | cases | recall | precision | routed | routed correct |",
      "|---|---:|---:|---:|---:|---:|",
    );
    for (const m of e.perModality) {
      parts.push(
        `| ${m.modality} | ${m.cases} | ${pct(m.recall)} | ${pct(m.precision)} | ${m.routed} | ${m.routedCorrect} |`,
      );
    }
    parts.push("", "Confusion matrix (rows: true modality, columns: predicted):", "");
    parts.push(
      `| true \\ predicted | ${e.labels.join(" | ")} |`,
      `|---|${e.labels.map(() => "---:").join("|")}|`,
    );
    e.labels.forEach((label, i) => parts.push(`| ${label} | ${e.confusion[i]!.join(" | ")} |`));
    parts.push("");
  }
  return parts.join("\n");
}
