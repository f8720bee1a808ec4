/** Per-feature standardisation (z-scores) fitted on a training set, shared by the selector and the subsets. */
import { META_FEATURE_NAMES } from "./metaFeatures.js";

export interface Standardisation {
  mean: number[];
  /** Population standard deviation; 1 where a feature is constant in the training set. */
  std: number[];
}

/** Mean and std of each column; constant columns get std 1 so they standardise to 0. */
export function fitStandardisation(rows: ArrayLike<number>[], width: number): Standardisation {
  const mean = new Array<number>(width).fill(0);
  const std = new Array<number>(width).fill(0);
  if (rows.length === 0) return { mean, std: std.map(() => 1) };
  for (const row of rows) for (let j = 0; j < width; j++) mean[j]! += row[j]!;
  for (let j = 0; j < width; j++) mean[j]! /= rows.length;
  for (const row of rows) for (let j = 0; j < width; j++) std[j]! += (row[j]! - mean[j]!) ** 2;
  for (let j = 0; j < width; j++) {
    const s = Math.sqrt(std[j]! / rows.length);
    std[j] = s > 1e-9 * Math.max(1, Math.abs(mean[j]!)) ? s : 1;
  }
  return { mean, std };
}

export function standardise(row: ArrayLike<number>, s: Standardisation): Float64Array {
  const out = new Float64Array(s.mean.length);
  for (let j = 0; j < out.length; j++) out[j] = (row[j]! - s.mean[j]!) / s.std[j]!;
  return out;
}

const CURRENT_INDEX = new Map<string, number>(META_FEATURE_NAMES.map((n, i) => [n, i]));

/**
 * Indices into META_FEATURE_NAMES of a stored model's feature names, so a model keeps working when features are
 * added. Throws when the model needs a feature this engine does not compute.
 */
export function featureIndices(featureNames: readonly string[], what: string): number[] {
  return featureNames.map((name) => {
    const i = CURRENT_INDEX.get(name);
    if (i === undefined) {
      throw new Error(`${what} uses meta-feature "${name}", which this engine does not compute; retrain it`);
    }
    return i;
  });
}

/** The values of `names` (by index list from featureIndices) out of a full feature vector. */
export function pickFeatures(values: ArrayLike<number>, indices: readonly number[]): Float64Array {
  const out = new Float64Array(indices.length);
  for (let j = 0; j < indices.length; j++) out[j] = values[indices[j]!]!;
  return out;
}
