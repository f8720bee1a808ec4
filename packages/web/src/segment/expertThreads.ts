/**
 * An expert's sessions on a Web Worker started by the segmentation worker (a nested dedicated worker), behind the
 * core's ExpertThreadPort: the protocol, its failure rules and ParallelExpert's policy (which starts these only
 * once a case has more work than a one-box picture) are the core's, as on the Node CLI's worker threads. A worker
 * that cannot start (a browser without nested workers) or fails is dropped, and the segmentation worker's own
 * sessions do its share.
 */
import { connectExpertThread, type ExpertThread, type ExpertThreadReply } from "@daft/core";
import type { ExpertThreadInit } from "./browserModels.js";

/** What expertThreadWorker.ts is first sent: the expert and the WASM threads of each of its sessions. */
export interface BrowserExpertThreadInit extends ExpertThreadInit {
  wasmThreads: number;
}

export function startBrowserExpertThread(init: BrowserExpertThreadInit): Promise<ExpertThread> {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./expertThreadWorker.ts", import.meta.url), { type: "module" });
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  const started = connectExpertThread({
    post: (request) => worker.postMessage(request),
    listen(onReply, onFailure) {
      worker.onmessage = (event: MessageEvent<ExpertThreadReply>) => onReply(event.data);
      worker.onerror = (event) => {
        event.preventDefault(); // handled: ParallelExpert goes on without this worker
        onFailure(event.message || "the worker failed");
      };
      worker.onmessageerror = () => onFailure("unreadable reply");
    },
    async terminate() {
      worker.terminate();
    },
  });
  worker.postMessage(init); // copied: this side keeps its bytes for its own sessions
  return started;
}
