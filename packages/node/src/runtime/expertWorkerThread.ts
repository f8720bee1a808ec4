/**
 * An expert worker thread on Node (worker_threads running expertWorker.js), behind the core's ExpertThreadPort:
 * the protocol, the failure rules and ParallelExpert's policy are the core's (packages/core/src/model). The
 * thread holds the process open only while requests are outstanding, so a run that ends without dispose() exits.
 */
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import {
  connectExpertThread,
  type ExpertSpec,
  type ExpertThread,
  type ExpertThreadReply,
  type ExpertThreadRequest,
} from "@daft/core";
import type { ModelBytes } from "./onnxExpert.js";

/** What the worker opens its sessions from (its workerData). */
export interface ExpertWorkerInit {
  spec: ExpertSpec;
  encoder: ModelBytes;
  decoder: ModelBytes;
  intraOpThreads: number;
  /** The optimized-model cache's folder (undefined: none). */
  cacheDir: string | undefined;
  /** The cache's bound in bytes (OptimizedModelCache.maxBytes). */
  cacheMaxBytes: number;
}

/** Starts a worker thread running `script` (default: expertWorker.js); resolves once its sessions are open. */
export function startExpertWorker(
  init: ExpertWorkerInit,
  script: URL | undefined = expertWorkerScript(),
): Promise<ExpertThread> {
  if (!script) return Promise.reject(new Error("expertWorker.js not found beside the runtime"));
  const worker = new Worker(script, { workerData: init });
  worker.unref();
  let terminating = false;
  return connectExpertThread({
    post: (request: ExpertThreadRequest) => worker.postMessage(request),
    listen(onReply, onFailure) {
      worker.on("message", (reply: ExpertThreadReply) => onReply(reply));
      worker.on("error", (e) => onFailure(e.message));
      worker.on("messageerror", (e) => onFailure(`unreadable reply (${e.message})`));
      worker.on("exit", (code) => terminating || onFailure(`exited (code ${code})`));
    },
    hold: (held) => (held ? worker.ref() : worker.unref()),
    async terminate() {
      terminating = true;
      await worker.terminate();
    },
  });
}

/**
 * The worker's module: beside this one when it runs from the compiled modules (dist/runtime), or the bundle's
 * entry (dist/bundle/expertWorker.js) when this code sits in one of the bundle's chunks.
 */
export function expertWorkerScript(): URL | undefined {
  return [new URL("./expertWorker.js", import.meta.url), new URL("../expertWorker.js", import.meta.url)].find(
    (url) => existsSync(url),
  );
}
