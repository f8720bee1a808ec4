/**
 * `daft segment` writes objects.csv beside its label maps: one row per box with its mask confidence. When the
 * predictions scored by `daft eval` come with it, eval joins each box's confidence with the DSC it scored for that
 * label (pairing cases by name as it pairs files: caseKeyOf) and reports whether the confidence finds the bad
 * masks on this data (core metrics/confidenceTriage.ts) — the check a team should make before trusting the
 * "check these first" marks on its own images.
 */
import { caseKeyOf, DaftInputError, type CaseMetrics, type ScoredObject } from "@daft/core";
import { OBJECT_HEADER, OBJECT_HEADER_WITHOUT_NAME } from "./segmentTables.js";

/** One box's confidence as objects.csv gives it. */
export interface ObjectConfidence {
  /** The case's pairing key (caseKeyOf of the input's name). */
  key: string;
  label: number;
  confidence: number;
}

/**
 * The rows of an objects.csv that carry a confidence (the box baseline's rows have none). The case name may hold
 * commas: the fields after it are read from the right (an object name has none). Files written before object
 * names (no `name` column) are read too.
 */
export function readObjectsCsv(text: string, file: string): ObjectConfidence[] {
  const [header, ...lines] = text.split(/\r?\n/).filter((line) => line.length > 0);
  if (header !== OBJECT_HEADER && header !== OBJECT_HEADER_WITHOUT_NAME)
    throw new DaftInputError(`is not daft segment's objects.csv (header "${header ?? ""}")`, file);
  const columns = header.split(",").length;
  return lines.flatMap((line, i) => {
    const fields = line.split(",");
    const bad = (what: string) => new DaftInputError(`line ${i + 2}: ${what}`, file);
    if (fields.length < columns) throw bad(`${fields.length} fields, at least ${columns} expected`);
    if (columns > 6) fields.pop(); // the object's name
    const [label, , , confidence] = fields.slice(-5);
    const name = fields.slice(0, -5).join(",");
    const labelNumber = Number(label);
    if (!Number.isInteger(labelNumber) || labelNumber < 1) throw bad(`label "${label}" is not a box number`);
    if (confidence === "") return [];
    const value = Number(confidence);
    if (!(value >= 0 && value <= 1)) throw bad(`mask_confidence "${confidence}" is not in [0, 1]`);
    return [{ key: caseKeyOf(name), label: labelNumber, confidence: value }];
  });
}

/** Each box with a confidence and a scored label: its case's modality, its label's DSC and its confidence. */
export function joinObjectScores(
  objects: readonly ObjectConfidence[],
  results: readonly { key: string; modality: string; metrics: CaseMetrics }[],
): ScoredObject[] {
  const byKey = new Map(results.map((r) => [r.key, r]));
  return objects.flatMap(({ key, label, confidence }) => {
    const result = byKey.get(key);
    const scored = result?.metrics.labels.find((m) => m.label === label);
    return result && scored && Number.isFinite(scored.dsc)
      ? [{ modality: result.modality, dsc: scored.dsc, confidence }]
      : [];
  });
}
