/**
 * What an expert's worker thread and the thread that started it say to each other, for ParallelExpert, on any
 * platform: the Node adapter's worker_threads and the browser's Web Workers carry these messages; the platform
 * brings only the thread (an ExpertThreadPort) and, inside the worker, the sessions (an Expert).
 *
 * The worker answers { ready } once its sessions are open (or { failed } with why), then one reply per request,
 * in order, its result arrays transferred. The starting side's ExpertThread turns replies back into results; a
 * thread that reports it could not start, throws, sends what cannot be read or exits unasked is dead: its start
 * rejects, or its outstanding requests reject with ExpertThreadDied (ParallelExpert reruns them on the calling
 * thread). A request whose model run fails rejects with the runtime's message; the thread goes on.
 */
import type { DecodeResult, Embedding, Expert } from "./expert.js";
import { ExpertThreadDied, type ExpertThread } from "./parallelExpert.js";

export type ExpertThreadRequest =
  | { id: number; op: "encode"; image: Float32Array }
  | { id: number; op: "decode"; embedding: Float32Array; dims: number[]; boxes: Float32Array };

export type ExpertThreadReply =
  | { ready: true }
  | { failed: string }
  | { id: number; embedding: { data: Float32Array; dims: number[] } }
  | { id: number; decoded: DecodeResult }
  | { id: number; error: string };

/** Each member of a union without its `id` (Omit on the union itself would keep only the common keys). */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** The worker side: `expert`'s answer to one request, with the buffers to transfer. Never rejects. */
export async function answerExpertRequest(
  expert: Expert,
  request: ExpertThreadRequest,
): Promise<{ reply: ExpertThreadReply; transfer: ArrayBuffer[] }> {
  try {
    if (request.op === "encode") {
      const e = await expert.encode(request.image);
      return {
        reply: { id: request.id, embedding: { data: e.data, dims: [...e.dims] } },
        transfer: [e.data.buffer as ArrayBuffer],
      };
    }
    const r = await expert.decode({ data: request.embedding, dims: request.dims }, request.boxes);
    return {
      reply: { id: request.id, decoded: r },
      transfer: [r.logits.buffer as ArrayBuffer, r.iou.buffer as ArrayBuffer],
    };
  } catch (e) {
    return { reply: { id: request.id, error: e instanceof Error ? e.message : String(e) }, transfer: [] };
  }
}

/** A started worker thread, as the platform gives it. */
export interface ExpertThreadPort {
  post(request: ExpertThreadRequest): void;
  /** `onFailure` once the thread errs, sends what cannot be read or exits (not after terminate()). */
  listen(onReply: (reply: ExpertThreadReply) => void, onFailure: (reason: string) => void): void;
  /** Whether the thread should keep the process alive (Node: ref/unref): only while requests are outstanding. */
  hold?(held: boolean): void;
  terminate(): Promise<void>;
}

/** The starting side: an ExpertThread over `port`, once the worker says its sessions are open. */
export function connectExpertThread(port: ExpertThreadPort): Promise<ExpertThread> {
  const pending = new Map<
    number,
    { resolve: (reply: ExpertThreadReply) => void; reject: (e: Error) => void }
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
    void port.terminate().catch(() => undefined);
  };
  port.listen((reply) => {
    if ("ready" in reply) return settleStart?.(undefined);
    if ("failed" in reply) return die(reply.failed);
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) port.hold?.(false);
    waiting?.resolve(reply);
  }, die);

  const request = (message: WithoutId<ExpertThreadRequest>): Promise<ExpertThreadReply> =>
    new Promise((resolve, reject) => {
      if (dead !== undefined) return reject(new ExpertThreadDied(`expert worker thread: ${dead}`));
      const id = nextId++;
      pending.set(id, {
        resolve: (reply) => ("error" in reply ? reject(new Error(reply.error)) : resolve(reply)),
        reject,
      });
      port.hold?.(true);
      port.post({ ...message, id } as ExpertThreadRequest);
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
      await port.terminate();
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
