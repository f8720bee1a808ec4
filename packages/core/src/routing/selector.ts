/**
 * The learned expert selector: meta-features of a case → foundation modality (the classes are modality names,
 * e.g. "CT", "Endoscopy"). One small network per dimension (2D, 3D): standardised features → dense layers with
 * ReLU between them → softmax. Stored as JSON ("daft-selector" v1), trained by selectorTraining.ts.
 *
 * A prediction routes only when its confidence reaches the model's threshold (chosen on validation data) and the
 * input is not far from everything seen in training (novelty distance); otherwise selectModality returns null
 * and the router falls through to the general expert.
 */
import * as z from "../zodMini.js";
import { DaftInputError } from "../errors.js";
import type { MetaFeatures } from "./metaFeatures.js";
import { featureIndices, pickFeatures } from "./standardisation.js";

export const SELECTOR_FORMAT = "daft-selector" as const;
export const SELECTOR_VERSION = 1 as const;

const finite = z.number().check(z.refine(Number.isFinite, "must be a finite number"));

export const DenseLayerSchema = z.object({
  inputs: z.int().check(z.positive()),
  outputs: z.int().check(z.positive()),
  /** Row-major (outputs × inputs). */
  weights: z.array(finite),
  bias: z.array(finite),
});

export const SelectorCandidateSchema = z.object({
  architecture: z.string(),
  l2: z.number(),
  balanced: z.boolean(),
  valAccuracy: z.number(),
  valLogLoss: z.number(),
});

export const SelectorTrainingInfoSchema = z.object({
  seed: z.int(),
  trainCases: z.int().check(z.nonnegative()),
  valCases: z.int().check(z.nonnegative()),
  /** "val" (the val split) or "train-holdout" (a seeded 20 % of train, when there was no val split). */
  valSource: z.enum(["val", "train-holdout"]),
  classCounts: z.record(z.string(), z.int().check(z.nonnegative())),
  valAccuracy: z.number(),
  /** Accuracy on val of the cases at or above the threshold, and their share. */
  valRoutedAccuracy: z.number(),
  valRoutedShare: z.number(),
  thresholdRule: z.string(),
  /** The candidate that won on validation (absent for a single-class model). */
  chosen: z.optional(SelectorCandidateSchema),
  candidates: z.array(SelectorCandidateSchema),
});

export const SelectorModelSchema = z
  .object({
    dimension: z.union([z.literal(2), z.literal(3)]),
    classes: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
    featureNames: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
    standardisation: z.object({ mean: z.array(finite), std: z.array(z.number().check(z.positive())) }),
    /** e.g. "softmax" (multinomial logistic regression) or "mlp-32" (one hidden ReLU layer of 32). */
    architecture: z.string().check(z.minLength(1)),
    /** ReLU between layers, softmax after the last. Empty only when there is a single class. */
    layers: z.array(DenseLayerSchema),
    /** Route only when the winning probability is at least this. */
    threshold: z.number().check(z.gte(0), z.lte(1)),
    /** Route only when the RMS of the (clipped) z-scores is at most maxDistance. */
    novelty: z.nullable(
      z.object({ maxDistance: z.number().check(z.positive()), clip: z.number().check(z.positive()) }),
    ),
    training: z.optional(SelectorTrainingInfoSchema),
  })
  .check(
    z.superRefine((m, ctx) => {
      const issue = (message: string) => ctx.addIssue({ code: "custom", message });
      const width = m.featureNames.length;
      if (m.standardisation.mean.length !== width || m.standardisation.std.length !== width) {
        issue(`standardisation must have ${width} means and stds (one per feature)`);
      }
      if (new Set(m.classes).size !== m.classes.length) issue("class names must be unique");
      if (m.layers.length === 0 && m.classes.length > 1)
        issue("a selector with several classes needs layers");
      let inputs = width;
      m.layers.forEach((layer, i) => {
        if (layer.inputs !== inputs) issue(`layer ${i} takes ${layer.inputs} inputs, expected ${inputs}`);
        if (layer.weights.length !== layer.inputs * layer.outputs) {
          issue(`layer ${i} needs ${layer.inputs * layer.outputs} weights, has ${layer.weights.length}`);
        }
        if (layer.bias.length !== layer.outputs) issue(`layer ${i} needs ${layer.outputs} biases`);
        inputs = layer.outputs;
      });
      if (m.layers.length > 0 && inputs !== m.classes.length) {
        issue(`the last layer has ${inputs} outputs but there are ${m.classes.length} classes`);
      }
    }),
  );

export const SelectorSchema = z.object({
  format: z.literal(SELECTOR_FORMAT),
  version: z.literal(SELECTOR_VERSION),
  /** A missing model (null) means inputs of that dimension are never routed by the selector. */
  models: z.object({ "2d": z.nullable(SelectorModelSchema), "3d": z.nullable(SelectorModelSchema) }),
  createdBy: z.optional(z.string()),
});

export type DenseLayer = z.infer<typeof DenseLayerSchema>;
export type SelectorModel = z.infer<typeof SelectorModelSchema>;
export type Selector = z.infer<typeof SelectorSchema>;
export type SelectorTrainingInfo = z.infer<typeof SelectorTrainingInfoSchema>;

/** Validates a parsed selector JSON; throws a one-line DaftInputError listing every problem. */
export function parseSelector(value: unknown, source?: string): Selector {
  const r = SelectorSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new DaftInputError(`invalid selector: ${issues}`, source);
  }
  for (const model of [r.data.models["2d"], r.data.models["3d"]]) {
    if (!model) continue;
    try {
      featureIndices(model.featureNames, "the selector");
    } catch (e) {
      throw new DaftInputError((e as Error).message, source);
    }
  }
  return r.data;
}

export interface SelectorPrediction {
  /** The most probable class, whether or not it routes. */
  modality: string;
  confidence: number;
  probabilities: Record<string, number>;
  /** RMS of the clipped z-scores (0 when the model has no novelty check). */
  distance: number;
  /** True when confidence ≥ threshold and the input is not novel. */
  routed: boolean;
  /** Why it routed or not, for --explain. */
  reason: string;
}

/** The model for the features' dimension, or null when the selector has none. */
export function selectorModelFor(selector: Selector, features: MetaFeatures): SelectorModel | null {
  return features.dimension === 2 ? selector.models["2d"] : selector.models["3d"];
}

/** Full prediction (probabilities, distance, routing verdict); null when there is no model for the dimension. */
export function predictWithSelector(selector: Selector, features: MetaFeatures): SelectorPrediction | null {
  const model = selectorModelFor(selector, features);
  return model ? predictWithModel(model, features.values) : null;
}

/**
 * For the router: the modality to route to, or null (no model for this dimension, confidence below the model's
 * threshold, or an input unlike the training data) — then the router falls through to the fallback.
 */
export function selectModality(
  selector: Selector,
  features: MetaFeatures,
): { modality: string; confidence: number } | null {
  const p = predictWithSelector(selector, features);
  return p && p.routed ? { modality: p.modality, confidence: p.confidence } : null;
}

const indexCache = new WeakMap<SelectorModel, number[]>();

/** Prediction of one model from a full META_FEATURE_NAMES-ordered vector. */
export function predictWithModel(model: SelectorModel, values: ArrayLike<number>): SelectorPrediction {
  let indices = indexCache.get(model);
  if (!indices) {
    indices = featureIndices(model.featureNames, "the selector");
    indexCache.set(model, indices);
  }
  const x = pickFeatures(values, indices);
  const { mean, std } = model.standardisation;
  for (let j = 0; j < x.length; j++) x[j] = (x[j]! - mean[j]!) / std[j]!;
  const probs = forwardProbabilities(model.layers, x, model.classes.length);
  let best = 0;
  for (let c = 1; c < probs.length; c++) if (probs[c]! > probs[best]!) best = c;
  const confidence = probs[best]!;
  const distance = model.novelty ? noveltyDistance(x, model.novelty.clip) : 0;
  const modality = model.classes[best]!;
  const novel = model.novelty !== null && distance > model.novelty.maxDistance;
  const confident = confidence >= model.threshold;
  const routed = confident && !novel;
  const reason = novel
    ? `selector: input unlike the training data (distance ${distance.toFixed(2)} > ${model.novelty!.maxDistance.toFixed(2)})`
    : confident
      ? `selector: ${modality} with confidence ${confidence.toFixed(3)} ≥ ${model.threshold.toFixed(3)}`
      : `selector: ${modality} with confidence ${confidence.toFixed(3)} < threshold ${model.threshold.toFixed(3)}`;
  return {
    modality,
    confidence,
    probabilities: Object.fromEntries(model.classes.map((c, i) => [c, probs[i]!])),
    distance,
    routed,
    reason,
  };
}

/** Softmax output of the network on a standardised input. */
export function forwardProbabilities(layers: DenseLayer[], x: Float64Array, classes: number): Float64Array {
  if (layers.length === 0) return Float64Array.from({ length: classes }, () => 1 / classes);
  let a: Float64Array = x;
  layers.forEach((layer, li) => {
    const out = new Float64Array(layer.outputs);
    for (let o = 0; o < layer.outputs; o++) {
      let s = layer.bias[o]!;
      const row = o * layer.inputs;
      for (let i = 0; i < layer.inputs; i++) s += layer.weights[row + i]! * a[i]!;
      out[o] = li < layers.length - 1 ? Math.max(0, s) : s;
    }
    a = out;
  });
  return softmaxInPlace(a);
}

export function softmaxInPlace(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    logits[i] = Math.exp(logits[i]! - max);
    sum += logits[i]!;
  }
  for (let i = 0; i < logits.length; i++) logits[i]! /= sum;
  return logits;
}

/** RMS over features of the z-scores, each clipped to ±clip so one wild feature cannot dominate. */
export function noveltyDistance(z: Float64Array, clip: number): number {
  let s = 0;
  for (const v of z) {
    const c = Math.max(-clip, Math.min(clip, v));
    s += c * c;
  }
  return Math.sqrt(s / Math.max(z.length, 1));
}
