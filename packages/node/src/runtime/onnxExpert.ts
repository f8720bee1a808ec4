import { OrtExpert, type ExpertSpec } from "@daft/core";
import * as ort from "onnxruntime-node";
import { OptimizedModelCache } from "./optimizedModelCache.js";

export interface SessionOptions {
  /** Intra-op threads; default: all cores. */
  threads?: number;
  /** Where optimized graphs are kept between processes (default: the environment's, see optimizedModelCache.ts). */
  cache?: OptimizedModelCache;
}

/** A model file's bytes and the sha256 the manifest gives for them (the cache's key). */
export interface ModelBytes {
  bytes: Uint8Array;
  sha256: string;
}

/**
 * An expert on onnxruntime-node: the core's OrtExpert with the Node runtime and CPU session options, its sessions
 * made through the optimized-model cache. `cachedSessions` counts the sessions the cache served (0–2).
 */
export async function createNodeExpert(
  spec: ExpertSpec,
  encoder: ModelBytes,
  decoder: ModelBytes,
  opts: SessionOptions = {},
): Promise<OrtExpert & { cachedSessions: number }> {
  const cache = opts.cache ?? OptimizedModelCache.fromEnvironment();
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
  };
  const [e, d] = await Promise.all([
    cache.session(encoder.bytes, encoder.sha256, options),
    cache.session(decoder.bytes, decoder.sha256, options),
  ]);
  const expert = OrtExpert.fromSessions(ort, spec, e.session, d.session);
  return Object.assign(expert, { cachedSessions: Number(e.cached) + Number(d.cached) });
}
