/**
 * Worker thread of an expert's ParallelExpert (the core's policy; expertWorkerThread.ts starts it): opens the
 * expert's two sessions through the optimized-model cache, like the main thread's, and answers the core's
 * expert-thread protocol (packages/core/src/model/expertThreadProtocol.ts), one request at a time, in order.
 */
import { parentPort, workerData } from "node:worker_threads";
import { answerExpertRequest, type ExpertThreadReply, type ExpertThreadRequest } from "@daft/core";
import type { ExpertWorkerInit } from "./expertWorkerThread.js";
import { createSessionExpert } from "./onnxExpert.js";
import { OptimizedModelCache } from "./optimizedModelCache.js";

const port = parentPort;
if (port) {
  const init = workerData as ExpertWorkerInit;
  createSessionExpert(init.spec, init.encoder, init.decoder, {
    threads: init.intraOpThreads,
    cache: new OptimizedModelCache(init.cacheDir, init.cacheMaxBytes),
  }).then(
    (expert) => {
      port.on(
        "message",
        (request: ExpertThreadRequest) =>
          void answerExpertRequest(expert, request).then(({ reply, transfer }) =>
            port.postMessage(reply, transfer),
          ),
      );
      port.postMessage({ ready: true } satisfies ExpertThreadReply);
    },
    (e: unknown) =>
      port.postMessage({ failed: e instanceof Error ? e.message : String(e) } satisfies ExpertThreadReply),
  );
}
