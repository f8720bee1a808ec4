/**
 * Worker thread of ParallelExpert (parallelExpert.ts): opens the expert's two sessions (through the optimized-model
 * cache, like the main thread's) and answers encode/decode requests, one at a time, in order. Results are
 * transferred, not copied. Protocol in expertWorkerThread.ts.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Expert } from "@daft/core";
import { createSessionExpert } from "./onnxExpert.js";
import { OptimizedModelCache } from "./optimizedModelCache.js";
import type { ExpertWorkerInit, ExpertWorkerReply, ExpertWorkerRequest } from "./expertWorkerThread.js";

const port = parentPort;
if (port) {
  const init = workerData as ExpertWorkerInit;
  const reply = (message: ExpertWorkerReply, transfer: ArrayBuffer[] = []) =>
    port.postMessage(message, transfer);
  createSessionExpert(init.spec, init.encoder, init.decoder, {
    threads: init.intraOpThreads,
    cache: new OptimizedModelCache(init.cacheDir),
  }).then(
    (expert: Expert) => {
      port.on("message", (request: ExpertWorkerRequest) => {
        const answer =
          request.op === "encode"
            ? expert
                .encode(request.image)
                .then((e): [ExpertWorkerReply, ArrayBuffer[]] => [
                  { id: request.id, embedding: { data: e.data, dims: [...e.dims] } },
                  [e.data.buffer as ArrayBuffer],
                ])
            : expert
                .decode({ data: request.embedding, dims: request.dims }, request.boxes)
                .then((r): [ExpertWorkerReply, ArrayBuffer[]] => [
                  { id: request.id, decoded: r },
                  [r.logits.buffer as ArrayBuffer, r.iou.buffer as ArrayBuffer],
                ]);
        answer.then(
          ([message, transfer]) => reply(message, transfer),
          (e: unknown) => reply({ id: request.id, error: e instanceof Error ? e.message : String(e) }),
        );
      });
      reply({ ready: true });
    },
    (e: unknown) => reply({ failed: e instanceof Error ? e.message : String(e) }),
  );
}
