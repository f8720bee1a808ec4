/** The page's handle on the segmentation worker: one promise per request, progress through a callback. */
import type { InputBytes } from "@daft/core";
import type { DecodedInput } from "../input/decodeInput.js";
import type { Backend, RoutingOverrides, SegmentOutcome, WorkerReply, WorkerRequest } from "./messages.js";

export type ProgressListener = (stage: string, done: number, total: number) => void;

type Pending = {
  resolve: (reply: WorkerReply) => void;
  reject: (error: Error) => void;
  progress?: ProgressListener;
};

export class EngineWorker {
  private readonly worker = new Worker(new URL("./segmentWorker.ts", import.meta.url), { type: "module" });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** How many decoding workers the last opened input's compressed DICOM slices used (0: none). */
  decodeWorkers = 0;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      if (reply.type === "progress") return waiting.progress?.(reply.stage, reply.done, reply.total);
      this.pending.delete(reply.id);
      if (reply.type === "error") waiting.reject(new Error(reply.message));
      else waiting.resolve(reply);
    };
    this.worker.onerror = (event) => {
      const error = new Error(`segmentation worker failed: ${event.message || "could not start"}`);
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
  }

  async decode(input: InputBytes): Promise<DecodedInput> {
    const reply = await this.send({ type: "decode", id: this.nextId++, input });
    if (reply.type !== "decoded") throw new Error(`unexpected worker reply ${reply.type}`);
    this.decodeWorkers = reply.decodeWorkers;
    return reply.decoded;
  }

  async segment(
    input: InputBytes,
    boxes: number[][],
    backend: Backend,
    overrides: RoutingOverrides,
    progress: ProgressListener,
  ): Promise<{ outcome: SegmentOutcome; labels: Uint16Array }> {
    const request: WorkerRequest = { type: "segment", id: this.nextId++, input, boxes, backend, overrides };
    const reply = await this.send(request, progress);
    if (reply.type !== "segmented") throw new Error(`unexpected worker reply ${reply.type}`);
    return { outcome: reply.outcome, labels: reply.labels };
  }

  private send(request: WorkerRequest, progress?: ProgressListener): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject, ...(progress ? { progress } : {}) });
      this.worker.postMessage(request);
    });
  }
}
