/**
 * Module worker of an expert's side-by-side sessions (expertThreads.ts), started by the segmentation worker: its
 * first message holds the expert's verified ONNX bytes; it opens the sessions on onnxruntime-web's WASM build and
 * answers the core's expert-thread protocol (packages/core/src/model/expertThreadProtocol.ts) in order.
 */
import { answerExpertRequest, OrtExpert, type ExpertThreadReply, type ExpertThreadRequest } from "@daft/core";
import type { BrowserExpertThreadInit } from "./expertThreads.js";
import { loadWasmModule, wasmSessionOptions } from "./ortRuntime.js";

const scope = self as unknown as DedicatedWorkerGlobalScope;
const reply = (message: ExpertThreadReply, transfer: Transferable[] = []) =>
  scope.postMessage(message, transfer);

scope.onmessage = (event: MessageEvent<BrowserExpertThreadInit>) => {
  const init = event.data;
  scope.onmessage = null; // requests come only after "ready"
  loadWasmModule(init.wasmThreads)
    .then((ort) => OrtExpert.create(ort, init.spec, init.encoder, init.decoder, wasmSessionOptions()))
    .then(
      (expert) => {
        scope.onmessage = (request: MessageEvent<ExpertThreadRequest>) =>
          void answerExpertRequest(expert, request.data).then(({ reply: r, transfer }) => reply(r, transfer));
        reply({ ready: true });
      },
      (e: unknown) => reply({ failed: e instanceof Error ? e.message : String(e) }),
    );
};
