import { availableParallelism } from "node:os";
import {
  modelThreads,
  openSessionPair,
  OrtExpert,
  ParallelExpert,
  type Expert,
  type ExpertSpec,
} from "@daft/core";
import * as ort from "onnxruntime-node";
import { startExpertWorker } from "./expertWorkerThread.js";
import { OptimizedModelCache } from "./optimizedModelCache.js";

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
    runLater: (task) => void setImmediate(task),
    spawn: () =>
      startExpertWorker({
        spec,
        encoder,
        decoder,
        intraOpThreads,
        cacheDir: cache.dir,
        cacheMaxBytes: cache.maxBytes,
      }),
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
    // onnxruntime's memory pattern is planned on the second run of each input shape, at the cost of a run (about
    // 15 ms of a fresh process's first encoder and decoder runs here), and again for every new box count the
    // decoder sees; without it the runs take as long once warm (a probe: encoder 4.5–4.9 ms, decoder 3.0–3.9 ms
    // either way).
    enableMemPattern: false,
  };
  const [e, d] = await openSessionPair(
    opts.cache.session(encoder.bytes, encoder.sha256, options),
    opts.cache.session(decoder.bytes, decoder.sha256, options),
    (made) => made.session.release(),
  );
  const expert = OrtExpert.fromSessions(ort, spec, e.session, d.session);
  return Object.assign(expert, { cachedSessions: Number(e.cached) + Number(d.cached) });
}
