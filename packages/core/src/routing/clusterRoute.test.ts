import { describe, expect, it } from "vitest";
import { parseManifest } from "../manifest/schema.js";
import { routeCaseWithData } from "./clusterRoute.js";
import { META_FEATURE_NAMES, type MetaFeatures } from "./metaFeatures.js";
import type { SelectorPrediction } from "./selector.js";
import { parseSubsets } from "./subsets.js";
import { testExpertEntry } from "../testing/manifests.js";

const expert = testExpertEntry;

const manifest = parseManifest({
  format: "daft-manifest",
  version: 1,
  experts: [expert("general", ["*"]), expert("bright", [], "2d-cluster-1"), expert("US", ["US"])],
  fallback: "general",
  routing: {
    filenameRules: [
      { pattern: "_US_", modality: "US" },
      { pattern: "_CT_", modality: "CT" },
    ],
    subsets: "subsets.json",
  },
});

/** Two 2D clusters along the first meta-feature (standardised: (x - 5) / 2); no 3D group. */
const subsets = parseSubsets({
  format: "daft-subsets",
  version: 1,
  criterion: "test",
  seed: 0,
  groups: {
    "2d": {
      dimension: 2,
      k: 2,
      kChosenBy: "fixed",
      silhouettes: [],
      featureNames: [META_FEATURE_NAMES[0]],
      standardisation: { mean: [5], std: [2] },
      subsets: {
        "2d-cluster-0": { cases: ["a/1"], modalities: { X: 1 }, datasets: { a: 1 } },
        "2d-cluster-1": { cases: ["b/1"], modalities: { Y: 1 }, datasets: { b: 1 } },
      },
      centroids: { "2d-cluster-0": [-2], "2d-cluster-1": [2] },
      agreement: { modalityPurity: 1, modalityNmi: 1, datasetPurity: 1, datasetNmi: 1 },
    },
    "3d": null,
  },
});

function features(dimension: 2 | 3, first: number): MetaFeatures {
  const values = new Float64Array(META_FEATURE_NAMES.length);
  values[0] = first;
  return { dimension, values };
}

const prediction: SelectorPrediction = {
  modality: "US",
  confidence: 0.9,
  probabilities: { US: 0.9 },
  distance: 0,
  routed: true,
  reason: "selector: US 0.900",
};

/** Routes with call counters, to check that features and the selector are computed only when needed. */
function route(fileName: string, f: MetaFeatures, extra: { expert?: string; modality?: string } = {}) {
  const calls = { features: 0, predict: 0 };
  const decision = routeCaseWithData(
    manifest,
    { fileName, ...extra },
    {
      subsets,
      features: () => (calls.features++, f),
      predict: () => (calls.predict++, prediction),
    },
  );
  return { decision, calls };
}

describe("routing with cluster subsets (manifest routing.subsets)", () => {
  it("sends an unnamed case to its nearest cluster's expert (rule cluster), before the selector", () => {
    const { decision, calls } = route("scan.npz", features(2, 10));
    expect(decision).toEqual({
      expert: "bright",
      modality: null,
      rule: "cluster",
      reason: "nearest cluster 2d-cluster-1 (distance 0.50)",
    });
    expect(calls).toEqual({ features: 1, predict: 0 });
  });

  it("a cluster without an expert of its own routes to the fallback, still by the cluster rule", () => {
    expect(route("scan.npz", features(2, 0)).decision).toMatchObject({
      expert: "general",
      rule: "cluster",
      reason: "nearest cluster 2d-cluster-0 (distance 0.50), which has no expert of its own",
    });
  });

  it("a modality with its own expert keeps it; one without goes on to the cluster", () => {
    const us = route("2DBox_US_x.npz", features(2, 10));
    expect(us.decision).toMatchObject({ expert: "US", rule: "filename" });
    expect(us.calls.features).toBe(0);
    expect(route("2DBox_CT_x.npz", features(2, 10)).decision).toMatchObject({
      expert: "bright",
      modality: "CT",
      rule: "cluster",
      reason:
        'file name contains "CT" (no expert of its own for CT); nearest cluster 2d-cluster-1 (distance 0.50)',
    });
    expect(route("scan.npz", features(2, 10), { modality: "CT" }).decision.rule).toBe("cluster");
  });

  it("--expert is final", () => {
    const { decision, calls } = route("scan.npz", features(2, 10), { expert: "general" });
    expect(decision).toMatchObject({ expert: "general", rule: "explicit-expert" });
    expect(calls.features).toBe(0);
  });

  it("a dimension without a cluster group falls through to the learned selector", () => {
    const { decision, calls } = route("scan.npz", features(3, 10));
    expect(decision).toMatchObject({ expert: "US", rule: "selector", modality: "US" });
    expect(calls.predict).toBe(1);
  });

  it("without subsets, routing is the selector routing as before", () => {
    const decision = routeCaseWithData(
      manifest,
      { fileName: "scan.npz" },
      { features: () => features(2, 10), predict: () => prediction },
    );
    expect(decision).toMatchObject({ rule: "selector", expert: "US" });
  });
});
