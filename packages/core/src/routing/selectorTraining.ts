/**
 * Training of the expert selector (see selector.ts), deterministic for a seed.
 *
 * Per dimension: standardise the train features; train every candidate (multinomial logistic regression and a
 * one-hidden-layer ReLU MLP, each with a few L2 strengths, with and without class-balanced weights) by minibatch
 * Adam on softmax cross-entropy; keep the best validation accuracy (ties: lower validation log-loss). Then pick
 * the confidence threshold on validation: route the most confident predictions as long as
 * (correct − wrongCost × wrong) grows; the threshold lies halfway between the last routed and the first unrouted
 * confidence (chance level 1/K below the lowest). The novelty limit is 1.5 × the 99th percentile of the
 * training cases' distances.
 */
import { META_FEATURE_NAMES } from "./metaFeatures.js";
import { SeededRandom } from "./random.js";
import {
  SELECTOR_FORMAT,
  SELECTOR_VERSION,
  forwardProbabilities,
  noveltyDistance,
  softmaxInPlace,
  type DenseLayer,
  type Selector,
  type SelectorModel,
  type SelectorTrainingInfo,
} from "./selector.js";
import { featureIndices, fitStandardisation, pickFeatures, standardise } from "./standardisation.js";

/** One training example: a full META_FEATURE_NAMES-ordered vector and its class (a foundation modality). */
export interface LabelledFeatures {
  values: ArrayLike<number>;
  label: string;
}

export interface SelectorCandidate {
  /** Hidden ReLU units; 0 = multinomial logistic regression. */
  hidden: number;
  l2: number;
  /** Weight each class by n / (K · n_class) in the loss. */
  balanced: boolean;
}

export const DEFAULT_SELECTOR_CANDIDATES: SelectorCandidate[] = [
  ...[1e-4, 1e-3, 1e-2, 1e-1].flatMap((l2) => [false, true].map((balanced) => ({ hidden: 0, l2, balanced }))),
  ...[1e-4, 1e-3].flatMap((l2) => [false, true].map((balanced) => ({ hidden: 32, l2, balanced }))),
];

export interface TrainSelectorOptions {
  seed?: number;
  candidates?: SelectorCandidate[];
  /** Cost of a wrong routed prediction relative to the gain of a right one (default 2). */
  wrongCost?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Features to use (default: all of META_FEATURE_NAMES). */
  featureNames?: readonly string[];
  onProgress?: (message: string) => void;
}

const NOVELTY_CLIP = 8;
const NOVELTY_MARGIN = 1.5;

/**
 * Trains the model of one dimension. `val` picks the candidate and the threshold; when it is empty, a seeded
 * 20 % of `train` is held out for that instead.
 */
export function trainSelectorModel(
  dimension: 2 | 3,
  trainSet: LabelledFeatures[],
  valSet: LabelledFeatures[],
  options: TrainSelectorOptions = {},
): SelectorModel {
  if (trainSet.length === 0) throw new Error(`no ${dimension}D training cases`);
  const seed = options.seed ?? 0;
  const wrongCost = options.wrongCost ?? 2;
  const featureNames = [...(options.featureNames ?? META_FEATURE_NAMES)];
  const indices = featureIndices(featureNames, "the selector");

  let train = trainSet;
  let val = valSet;
  let valSource: SelectorTrainingInfo["valSource"] = "val";
  if (val.length === 0 && train.length >= 5) {
    const order = new SeededRandom(seed + 7919).shuffle(train.map((_, i) => i));
    const cut = Math.max(1, Math.round(train.length * 0.2));
    val = order.slice(0, cut).map((i) => train[i]!);
    train = order.slice(cut).map((i) => train[i]!);
    valSource = "train-holdout";
  }

  const classes = [...new Set(train.map((s) => s.label))].sort();
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const rawTrain = train.map((s) => pickFeatures(s.values, indices));
  const standardisation = fitStandardisation(rawTrain, featureNames.length);
  const X = rawTrain.map((r) => standardise(r, standardisation));
  const y = Int32Array.from(train, (s) => classIndex.get(s.label)!);
  const Xval = val.map((s) => standardise(pickFeatures(s.values, indices), standardisation));
  const yVal = val.map((s) => classIndex.get(s.label) ?? -1);
  const classCounts = Object.fromEntries(classes.map((c) => [c, train.filter((s) => s.label === c).length]));

  const candidates: SelectorTrainingInfo["candidates"] = [];
  type Candidate = SelectorTrainingInfo["candidates"][number];
  let best: {
    layers: DenseLayer[];
    architecture: string;
    accuracy: number;
    logLoss: number;
    candidate?: Candidate;
  } | null = null;
  if (classes.length === 1) {
    best = { layers: [], architecture: "single-class", accuracy: NaN, logLoss: NaN };
  } else {
    const specs = options.candidates ?? DEFAULT_SELECTOR_CANDIDATES;
    specs.forEach((spec, ci) => {
      const architecture = spec.hidden > 0 ? `mlp-${spec.hidden}` : "softmax";
      const layers = trainNetwork(X, y, classes.length, spec, {
        seed: seed * 1000 + ci,
        epochs: options.epochs ?? 150,
        batchSize: options.batchSize ?? 32,
        learningRate: options.learningRate ?? 0.01,
      });
      const { accuracy, logLoss } = scoreNetwork(layers, Xval, yVal, classes.length);
      const candidate = {
        architecture,
        l2: spec.l2,
        balanced: spec.balanced,
        valAccuracy: accuracy,
        valLogLoss: logLoss,
      };
      candidates.push(candidate);
      options.onProgress?.(
        `${dimension}D candidate ${ci + 1}/${specs.length}: ${architecture} l2=${spec.l2} balanced=${spec.balanced} ` +
          `val accuracy ${(100 * accuracy).toFixed(1)} % log-loss ${logLoss.toFixed(3)}`,
      );
      const better =
        !best ||
        accuracy > best.accuracy + 1e-12 ||
        (Math.abs(accuracy - best.accuracy) <= 1e-12 && logLoss < best.logLoss);
      if (better) best = { layers, architecture, accuracy, logLoss, candidate };
    });
  }
  const chosen = best!;

  // Novelty limit from the training distances.
  const trainDistances = X.map((x) => noveltyDistance(x, NOVELTY_CLIP)).sort((a, b) => a - b);
  const q99 = trainDistances[Math.min(trainDistances.length - 1, Math.floor(0.99 * trainDistances.length))]!;
  const maxDistance = Math.max(NOVELTY_MARGIN * q99, 1e-6);

  // Threshold on the val cases that pass the novelty check.
  const valPredictions = Xval.map((x, i) => {
    const probs = forwardProbabilities(chosen.layers, x, classes.length);
    let arg = 0;
    for (let c = 1; c < probs.length; c++) if (probs[c]! > probs[arg]!) arg = c;
    return {
      confidence: probs[arg]!,
      correct: arg === yVal[i],
      novel: noveltyDistance(x, NOVELTY_CLIP) > maxDistance,
    };
  });
  const valAccuracy = valPredictions.length
    ? valPredictions.filter((p) => p.correct).length / valPredictions.length
    : NaN;
  const known = valPredictions.filter((p) => !p.novel);
  // One class: confidence is always 1, only the novelty check can refuse an input.
  const { threshold, routed } =
    classes.length === 1
      ? { threshold: 0, routed: known }
      : chooseThreshold(known, wrongCost, 1 / classes.length);
  const routedCorrect = routed.filter((p) => p.correct).length;

  return {
    dimension,
    classes,
    featureNames,
    standardisation,
    architecture: chosen.architecture,
    layers: chosen.layers,
    threshold,
    novelty: { maxDistance, clip: NOVELTY_CLIP },
    training: {
      seed,
      trainCases: train.length,
      valCases: val.length,
      valSource,
      classCounts,
      valAccuracy: Number.isFinite(valAccuracy) ? valAccuracy : 0,
      valRoutedAccuracy: routed.length ? routedCorrect / routed.length : 0,
      valRoutedShare: valPredictions.length ? routed.length / valPredictions.length : 0,
      thresholdRule:
        `largest routed set of val predictions (by confidence) maximising correct - ${wrongCost} x wrong; ` +
        `threshold halfway to the next confidence (chance 1/K below the lowest); novel inputs excluded`,
      ...(chosen.candidate ? { chosen: chosen.candidate } : {}),
      candidates,
    },
  };
}

/** The threshold for (confidence, correct) pairs; see the file comment. */
export function chooseThreshold<T extends { confidence: number; correct: boolean }>(
  predictions: T[],
  wrongCost: number,
  chance: number,
): { threshold: number; routed: T[] } {
  const sorted = [...predictions].sort((a, b) => b.confidence - a.confidence);
  let utility = 0;
  let bestUtility = 0;
  let bestCount = 0;
  for (let i = 0; i < sorted.length; i++) {
    utility += sorted[i]!.correct ? 1 : -wrongCost;
    // Only cut between distinct confidences.
    const next = sorted[i + 1];
    if (next && next.confidence === sorted[i]!.confidence) continue;
    if (utility >= bestUtility) {
      bestUtility = utility;
      bestCount = i + 1;
    }
  }
  if (bestCount === 0) return { threshold: 1, routed: sorted.filter((p) => p.confidence >= 1) };
  const last = sorted[bestCount - 1]!.confidence;
  const below = sorted[bestCount]?.confidence ?? Math.min(chance, last);
  const threshold = Math.min(1, Math.max(0, (last + below) / 2));
  return { threshold, routed: sorted.filter((p) => p.confidence >= threshold) };
}

interface Schedule {
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
}

/** Minibatch Adam (cosine-decayed step) on weighted softmax cross-entropy + L2 on the weights. */
export function trainNetwork(
  X: Float64Array[],
  y: Int32Array,
  classCount: number,
  spec: SelectorCandidate,
  schedule: Schedule,
): DenseLayer[] {
  const rng = new SeededRandom(schedule.seed);
  const width = X[0]?.length ?? 0;
  const sizes = spec.hidden > 0 ? [width, spec.hidden, classCount] : [width, classCount];
  const layers = sizes.slice(1).map((outputs, l) => {
    const inputs = sizes[l]!;
    const scale = Math.sqrt((l < sizes.length - 2 ? 2 : 1) / inputs);
    return {
      inputs,
      outputs,
      w: Float64Array.from({ length: inputs * outputs }, () => rng.normal() * scale),
      b: new Float64Array(outputs),
    };
  });
  const params = layers.flatMap((l) => [l.w, l.b]);
  const grads = params.map((p) => new Float64Array(p.length));
  const m1 = params.map((p) => new Float64Array(p.length));
  const m2 = params.map((p) => new Float64Array(p.length));

  const counts = new Float64Array(classCount);
  for (const c of y) counts[c]!++;
  const classWeight = Float64Array.from(counts, (n) =>
    spec.balanced ? y.length / (classCount * Math.max(n, 1)) : 1,
  );

  const order = Array.from({ length: X.length }, (_, i) => i);
  const stepsPerEpoch = Math.ceil(X.length / schedule.batchSize);
  const totalSteps = schedule.epochs * stepsPerEpoch;
  const acts: Float64Array[] = sizes.map((n) => new Float64Array(n));
  const deltas: Float64Array[] = sizes.map((n) => new Float64Array(n));
  let step = 0;
  for (let epoch = 0; epoch < schedule.epochs; epoch++) {
    rng.shuffle(order);
    for (let start = 0; start < order.length; start += schedule.batchSize) {
      const batch = order.slice(start, start + schedule.batchSize);
      for (const g of grads) g.fill(0);
      let weightSum = 0;
      for (const i of batch) weightSum += classWeight[y[i]!]!;
      for (const i of batch) {
        acts[0] = X[i]!;
        for (let l = 0; l < layers.length; l++) {
          const { inputs, outputs, w, b } = layers[l]!;
          const a = acts[l]!;
          const out = acts[l + 1]!;
          for (let o = 0; o < outputs; o++) {
            let s = b[o]!;
            const row = o * inputs;
            for (let k = 0; k < inputs; k++) s += w[row + k]! * a[k]!;
            out[o] = l < layers.length - 1 ? Math.max(0, s) : s;
          }
        }
        const top = deltas[layers.length]!;
        top.set(acts[layers.length]!);
        softmaxInPlace(top);
        const sampleWeight = classWeight[y[i]!]! / weightSum;
        for (let c = 0; c < classCount; c++) top[c] = (top[c]! - (c === y[i] ? 1 : 0)) * sampleWeight;
        for (let l = layers.length - 1; l >= 0; l--) {
          const { inputs, outputs, w } = layers[l]!;
          const gw = grads[2 * l]!;
          const gb = grads[2 * l + 1]!;
          const a = acts[l]!;
          const d = deltas[l + 1]!;
          for (let o = 0; o < outputs; o++) {
            const dv = d[o]!;
            if (dv === 0) continue;
            gb[o]! += dv;
            const row = o * inputs;
            for (let k = 0; k < inputs; k++) gw[row + k]! += dv * a[k]!;
          }
          if (l > 0) {
            const prev = deltas[l]!;
            for (let k = 0; k < inputs; k++) {
              if (a[k]! <= 0) {
                prev[k] = 0;
                continue;
              }
              let s = 0;
              for (let o = 0; o < outputs; o++) s += w[o * inputs + k]! * d[o]!;
              prev[k] = s;
            }
          }
        }
      }
      step++;
      const lr = 0.5 * schedule.learningRate * (1 + Math.cos((Math.PI * (step - 1)) / totalSteps));
      adamStep(params, grads, m1, m2, step, lr, spec.l2);
    }
  }
  return layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, weights: [...l.w], bias: [...l.b] }));
}

function adamStep(
  params: Float64Array[],
  grads: Float64Array[],
  m1: Float64Array[],
  m2: Float64Array[],
  step: number,
  lr: number,
  l2: number,
): void {
  const beta1 = 0.9;
  const beta2 = 0.999;
  const c1 = 1 - beta1 ** step;
  const c2 = 1 - beta2 ** step;
  params.forEach((p, pi) => {
    const g = grads[pi]!;
    const a = m1[pi]!;
    const v = m2[pi]!;
    const decay = pi % 2 === 0 ? l2 : 0; // weights only, not biases
    for (let k = 0; k < p.length; k++) {
      const gk = g[k]! + decay * p[k]!;
      a[k] = beta1 * a[k]! + (1 - beta1) * gk;
      v[k] = beta2 * v[k]! + (1 - beta2) * gk * gk;
      p[k]! -= (lr * (a[k]! / c1)) / (Math.sqrt(v[k]! / c2) + 1e-8);
    }
  });
}

/** Accuracy and mean log-loss; a label unknown to the model (-1) counts as wrong with probability 1e-12. */
function scoreNetwork(
  layers: DenseLayer[],
  X: Float64Array[],
  y: number[],
  classCount: number,
): { accuracy: number; logLoss: number } {
  if (X.length === 0) return { accuracy: 0, logLoss: 0 };
  let correct = 0;
  let loss = 0;
  X.forEach((x, i) => {
    const probs = forwardProbabilities(layers, x, classCount);
    let arg = 0;
    for (let c = 1; c < probs.length; c++) if (probs[c]! > probs[arg]!) arg = c;
    if (arg === y[i]) correct++;
    loss -= Math.log(Math.max(y[i]! >= 0 ? probs[y[i]!]! : 0, 1e-12));
  });
  return { accuracy: correct / X.length, logLoss: loss / X.length };
}

/** A labelled example of either dimension. */
export interface SelectorSample extends LabelledFeatures {
  dimension: 2 | 3;
}

/** Trains both dimensions (a dimension without training cases gets no model). */
export function trainSelector(
  train: SelectorSample[],
  val: SelectorSample[],
  options: TrainSelectorOptions = {},
): Selector {
  const model = (dimension: 2 | 3) => {
    const t = train.filter((s) => s.dimension === dimension);
    return t.length === 0
      ? null
      : trainSelectorModel(
          dimension,
          t,
          val.filter((s) => s.dimension === dimension),
          options,
        );
  };
  return {
    format: SELECTOR_FORMAT,
    version: SELECTOR_VERSION,
    models: { "2d": model(2), "3d": model(3) },
    createdBy: "daft selector train",
  };
}
