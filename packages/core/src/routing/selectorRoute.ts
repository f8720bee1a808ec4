/**
 * Routing with the learned selector as the last rule before the fallback:
 *   explicit expert → explicit modality → metadata → file name → selector → general fallback.
 * Extends routeCase (route.ts) without changing it; the selector's prediction is computed only when every earlier
 * rule missed, so callers can pass a lazy function that computes meta-features on demand.
 */
import type { Manifest } from "../manifest/schema.js";
import { expertForModality, routeCase, type RouteDecision, type RouteInput } from "./route.js";
import type { SelectorPrediction } from "./selector.js";

export type SelectorRouteDecision = RouteDecision;

export function routeCaseWithSelector(
  manifest: Manifest,
  input: RouteInput,
  predict: () => SelectorPrediction | null,
): SelectorRouteDecision {
  const decision = routeCase(manifest, input);
  if (decision.rule !== "fallback") return decision;
  const p = predict();
  if (!p) return decision;
  if (!p.routed) return { ...decision, reason: `no rule matched; ${p.reason}`, confidence: p.confidence };
  return {
    expert: expertForModality(manifest, p.modality),
    modality: p.modality,
    rule: "selector",
    reason: p.reason,
    confidence: p.confidence,
  };
}
