/**
 * Routing by data-driven subsets (daft subsets propose, trained by daft_train --subsets <that file>): a manifest
 * with routing.subsets ships cluster experts (their `subset` = a cluster name, no modalities). Precedence:
 *   explicit expert → explicit modality → metadata → file name — when one of these names a modality that has an
 *   expert of its own, that expert; otherwise → the nearest-centroid cluster's expert (rule "cluster"; the
 *   fallback when the cluster has none) → learned selector → general fallback.
 */
import type { Manifest } from "../manifest/schema.js";
import type { MetaFeatures } from "./metaFeatures.js";
import { routeCase, type RouteDecision, type RouteInput } from "./route.js";
import type { SelectorPrediction } from "./selector.js";
import { routeCaseWithSelector } from "./selectorRoute.js";
import { selectSubset, type Subsets } from "./subsets.js";

export interface DataDrivenRouting {
  /** The manifest's cluster subsets (routing.subsets), when it has them. */
  subsets?: Subsets;
  /** Meta-features of the case, computed only when a data-driven rule needs them. */
  features: () => MetaFeatures;
  /** The learned selector's prediction (null: no selector). */
  predict: () => SelectorPrediction | null;
}

/** The expert fine-tuned on `subset` (its manifest `subset` field), or null. */
export function expertForSubset(manifest: Manifest, subset: string): string | null {
  return manifest.experts.find((e) => e.subset === subset && e.name !== manifest.fallback)?.name ?? null;
}

/** The nearest-centroid cluster's decision; null when the subsets have no group for the case's dimension. */
export function routeToCluster(
  manifest: Manifest,
  subsets: Subsets,
  features: MetaFeatures,
  earlier: RouteDecision,
): RouteDecision | null {
  const hit = selectSubset(subsets, features);
  if (!hit) return null;
  const expert = expertForSubset(manifest, hit.subset);
  const before =
    earlier.rule === "fallback" ? "" : `${earlier.reason} (no expert of its own for ${earlier.modality}); `;
  return {
    expert: expert ?? manifest.fallback,
    modality: earlier.modality,
    rule: "cluster",
    reason:
      `${before}nearest cluster ${hit.subset} (distance ${hit.distance.toFixed(2)})` +
      (expert ? "" : `, which has no expert of its own`),
  };
}

/** routeCase, then the cluster rule (when the manifest has subsets), then the learned selector. */
export function routeCaseWithData(
  manifest: Manifest,
  input: RouteInput,
  data: DataDrivenRouting,
): RouteDecision {
  if (data.subsets) {
    const decision = routeCase(manifest, input);
    if (decision.rule === "explicit-expert" || decision.expert !== manifest.fallback) return decision;
    const cluster = routeToCluster(manifest, data.subsets, data.features(), decision);
    if (cluster) return cluster;
  }
  return routeCaseWithSelector(manifest, input, data.predict);
}
