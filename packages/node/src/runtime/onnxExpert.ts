import { availableParallelism } from "node:os";
import { OrtExpert, type Expert, type ExpertSpec } from "@daft/core";
import * as ort from "onnxruntime-node";
import { startExpertWorker } from "./expertWorkerThread.js";
import { OptimizedModelCache } from "./optimizedModelCache.js";
import { ParallelExpert } from "./parallelExpert.js";

export interface SessionOptions {
  /** Cores the expert may use (default: all): models side by side, see modelThreads. */
  threads?: number;
  /** Where optimized graphs are kept between processes (default: the environment's, see optimizedModelCache.ts). */
  cache?: OptimizedModelCache;
  /** Told once if a worker thread could not start or died (the run goes on without it). */
  onWorkerLost?: (reason: string) => void;
}

/** A model file's bytes and the sha256 the manifest gives for them (the cache's key). */
export interface ModelBytes {
  bytes: Uint8Array;
  sha256: string;
}

/**
 * Most model runs one case asks for at once: test-time mirroring's 4 passes. More threads than that would wait.
 */
export const MAX_MODEL_THREADS = 4;

/**
 * How `cores` are spent: `threads` sessions side by side (the main thread's and worker threads'), each on
 * `intraOpThreads` onnxruntime threads. Side by side first — it is what speeds the small shipped models up (see
 * parallelExpert.ts) — up to MAX_MODEL_THREADS; cores beyond that go to each session's own threads.
 */
export function modelThreads(cores: number): { threads: number; intraOpThreads: number } {
  const threads = Math.max(1, Math.min(cores, MAX_MODEL_THREADS));
  return { threads, intraOpThreads: Math.max(1, Math.floor(cores / threads)) };
}

/**
 * An expert on onnxruntime-node: the core's OrtExpert with the Node runtime and CPU session options, its sessions
 * made through the optimized-model cache. `cachedSessions` counts the sessions the cache served (0–2). With more
 * than one core, a ParallelExpert: the same sessions on the main thread, and worker threads with their own once
 * a case has enough work for them.
 */
export async function createNodeExpert(
  spec: ExpertSpec,
  encoder: ModelBytes,
  decoder: ModelBytes,
  opts: SessionOptions = {},
): Promise<Expert & { cachedSessions: number }> {
  const cache = opts.cache ?? OptimizedModelCache.fromEnvironment();
  const { threads, intraOpThreads } = modelThreads(opts.threads ?? availableParallelism());
  const main = await createSessionExpert(spec, encoder, decoder, { threads: intraOpThreads, cache });
  if (threads === 1) return main;
  const parallel = new ParallelExpert(main, {
    threads,
    spawn: () => startExpertWorker({ spec, encoder, decoder, intraOpThreads, cacheDir: cache.dir }),
    ...(opts.onWorkerLost ? { onWorkerLost: opts.onWorkerLost } : {}),
  });
  return Object.assign(parallel, { cachedSessions: main.cachedSessions });
}

/** One thread's expert: two sessions on `threads` onnxruntime intra-op threads, through the cache. */
export async function createSessionExpert(
  spec: ExpertSpec,
  encoder: ModelBytes,
  decoder: ModelBytes,
  opts: { threads: number; cache: OptimizedModelCache },
): Promise<OrtExpert & { cachedSessions: number }> {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: opts.threads,
  };
  const [e, d] = await Promise.all([
    opts.cache.session(encoder.bytes, encoder.sha256, options),
    opts.cache.session(decoder.bytes, decoder.sha256, options),
  ]);
  const expert = OrtExpert.fromSessions(ort, spec, e.session, d.session);
  return Object.assign(expert, { cachedSessions: Number(e.cached) + Number(d.cached) });
}
