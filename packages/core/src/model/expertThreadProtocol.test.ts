import { describe, expect, it } from "vitest";
import type { DecodeResult, Embedding, Expert } from "./expert.js";
import {
  answerExpertRequest,
  connectExpertThread,
  type ExpertThreadPort,
  type ExpertThreadReply,
  type ExpertThreadRequest,
} from "./expertThreadProtocol.js";
import { ExpertThreadDied } from "./parallelExpert.js";

/** embedding = the image doubled; logits = the box coordinates summed, per box; an empty image fails. */
const doubling: Expert = {
  name: "doubling",
  inputSize: 1,
  async encode(image: Float32Array): Promise<Embedding> {
    if (image.length === 0) throw new Error("onnxruntime: empty image");
    return { data: image.map((v) => 2 * v), dims: [image.length] };
  },
  async decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult> {
    const n = boxes.length / 4;
    const logits = Float32Array.from(
      { length: n },
      (_, k) => boxes[4 * k]! + boxes[4 * k + 2]! + embedding.data[0]!,
    );
    return { logits, iou: new Float32Array(n).fill(1), count: n };
  },
};

/** A worker in this thread: answers requests with `expert` after `ready`, as a platform's worker would. */
function inMemoryPort(opts: { start?: ExpertThreadReply; dieOnRequest?: string } = {}) {
  let onReply: (reply: ExpertThreadReply) => void = () => undefined;
  let onFailure: (reason: string) => void = () => undefined;
  const state = { terminated: false, held: [] as boolean[], transferred: 0 };
  const port: ExpertThreadPort = {
    post(request: ExpertThreadRequest) {
      if (opts.dieOnRequest) return void setImmediate(() => onFailure(opts.dieOnRequest!));
      void answerExpertRequest(doubling, request).then(({ reply, transfer }) => {
        state.transferred += transfer.length;
        setImmediate(() => onReply(reply));
      });
    },
    listen(reply, failure) {
      onReply = reply;
      onFailure = failure;
      setImmediate(() => onReply(opts.start ?? { ready: true }));
    },
    hold: (held) => void state.held.push(held),
    async terminate() {
      state.terminated = true;
    },
  };
  return { port, state };
}

describe("the expert thread protocol", () => {
  it("carries encode and decode requests and their results, holding the thread only while they are out", async () => {
    const { port, state } = inMemoryPort();
    const thread = await connectExpertThread(port);
    const [a, b] = await Promise.all([
      thread.encode(Float32Array.of(1, 2)),
      thread.encode(Float32Array.of(5)),
    ]);
    expect([...a.data, ...b.data]).toEqual([2, 4, 10]);
    expect(a.dims).toEqual([2]);
    const d = await thread.decode(a, Float32Array.of(1, 0, 3, 0, 10, 0, 20, 0));
    expect([...d.logits]).toEqual([6, 32]);
    expect(d.count).toBe(2);
    expect(state.transferred).toBe(1 + 1 + 2); // the embeddings' buffers, the logits' and the IoUs'
    expect(state.held).toEqual([true, true, false, true, false]);
    // A model run that fails rejects that request with the runtime's message; the thread goes on.
    const failed = await thread.encode(new Float32Array(0)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(ExpertThreadDied);
    expect((failed as Error).message).toBe("onnxruntime: empty image");
    expect((await thread.encode(Float32Array.of(3))).data[0]).toBe(6);
    await thread.dispose?.();
    expect(state.terminated).toBe(true);
  });

  it("rejects the start of a worker that could not open its sessions", async () => {
    const { port, state } = inMemoryPort({ start: { failed: "model.onnx: protobuf parsing failed" } });
    await expect(connectExpertThread(port)).rejects.toThrow(
      "expert worker thread could not start: model.onnx: protobuf parsing failed",
    );
    expect(state.terminated).toBe(true);
  });

  it("rejects outstanding and later requests as dead when the thread fails, and tells its listeners once", async () => {
    const { port, state } = inMemoryPort({ dieOnRequest: "exited (code 3)" });
    const thread = await connectExpertThread(port);
    const deaths: string[] = [];
    thread.onDeath?.((reason) => deaths.push(reason));
    await expect(thread.encode(Float32Array.of(1))).rejects.toBeInstanceOf(ExpertThreadDied);
    await expect(thread.decode({ data: Float32Array.of(1), dims: [1] }, new Float32Array(4))).rejects.toThrow(
      "expert worker thread: exited (code 3)",
    );
    expect(deaths).toEqual(["exited (code 3)"]);
    expect(state.terminated).toBe(true);
  });
});
