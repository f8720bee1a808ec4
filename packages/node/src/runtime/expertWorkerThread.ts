/**
 * The main thread's side of an expert worker thread (expertWorker.ts): starts it, sends it requests and turns its
 * replies back into results, as an ExpertThread for ParallelExpert. A thread that reports it could not open its
 * sessions, throws, sends what cannot be read or exits unasked is dead: its start rejects, or its outstanding
 * requests reject with ExpertThreadDied (ParallelExpert reruns them on the main thread). The worker holds the
 * process open only while it has requests outstanding, so a run that ends without dispose() still exits.
 */
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { DecodeResult, Embedding, ExpertSpec } from "@daft/core";
import type { ModelBytes } from "./onnxExpert.js";
import { ExpertThreadDied, type ExpertThread } from "./parallelExpert.js";

export interface ExpertWorkerInit {
  spec: ExpertSpec;
  encoder: ModelBytes;
  decoder: ModelBytes;
  intraOpThreads: number;
  /** The optimized-model cache's folder (undefined: none). */
  cacheDir: string | undefined;
}

export type ExpertWorkerRequest =
  | { id: number; op: "encode"; image: Float32Array }
  | { id: number; op: "decode"; embedding: Float32Array; dims: number[]; boxes: Float32Array };

/** Each member of a union without its `id` (Omit on the union itself would keep only the common keys). */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export type ExpertWorkerReply =
  | { ready: true }
  | { failed: string }
  | { id: number; embedding: { data: Float32Array; dims: number[] } }
  | { id: number; decoded: DecodeResult }
  | { id: number; error: string };

/** Starts a worker thread running `script` (default: expertWorker.js); resolves once its sessions are open. */
export function startExpertWorker(
  init: ExpertWorkerInit,
  script: URL | undefined = expertWorkerScript(),
): Promise<ExpertThread> {
  if (!script) return Promise.reject(new Error("expertWorker.js not found beside the runtime"));
  const worker = new Worker(script, { workerData: init });
  worker.unref(); // held only while requests are outstanding (see request)
  const pending = new Map<
    number,
    { resolve: (reply: ExpertWorkerReply) => void; reject: (e: Error) => void }
  >();
  const deathListeners: ((reason: string) => void)[] = [];
  let nextId = 0;
  let dead: string | undefined;
  let settleStart: ((error: string | undefined) => void) | undefined;

  const die = (reason: string) => {
    if (dead !== undefined) return;
    dead = reason;
    settleStart?.(reason);
    for (const p of pending.values()) p.reject(new ExpertThreadDied(`expert worker thread: ${reason}`));
    pending.clear();
    for (const listener of deathListeners) listener(reason);
    void worker.terminate();
  };
  worker.on("message", (reply: ExpertWorkerReply) => {
    if ("ready" in reply) return settleStart?.(undefined);
    if ("failed" in reply) return die(reply.failed);
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    waiting?.resolve(reply);
  });
  worker.on("error", (e) => die(e.message));
  worker.on("messageerror", (e) => die(`unreadable reply (${e.message})`));
  worker.on("exit", (code) => die(`exited (code ${code})`));

  const request = (message: WithoutId<ExpertWorkerRequest>): Promise<ExpertWorkerReply> =>
    new Promise((resolve, reject) => {
      if (dead !== undefined) return reject(new ExpertThreadDied(`expert worker thread: ${dead}`));
      const id = nextId++;
      pending.set(id, {
        resolve: (reply) => ("error" in reply ? reject(new Error(reply.error)) : resolve(reply)),
        reject,
      });
      worker.ref();
      worker.postMessage({ ...message, id });
    });

  const thread: ExpertThread = {
    async encode(image: Float32Array): Promise<Embedding> {
      const reply = await request({ op: "encode", image });
      if (!("embedding" in reply))
        throw new ExpertThreadDied("expert worker thread: no embedding in its reply");
      return reply.embedding;
    },
    async decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult> {
      const reply = await request({
        op: "decode",
        embedding: embedding.data,
        dims: [...embedding.dims],
        boxes,
      });
      if (!("decoded" in reply)) throw new ExpertThreadDied("expert worker thread: no result in its reply");
      return reply.decoded;
    },
    onDeath: (listener) => void deathListeners.push(listener),
    async dispose() {
      dead ??= "disposed";
      await worker.terminate();
    },
  };
  return new Promise((resolve, reject) => {
    settleStart = (error) => {
      settleStart = undefined;
      if (error === undefined) resolve(thread);
      else reject(new Error(`expert worker thread could not start: ${error}`));
    };
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
