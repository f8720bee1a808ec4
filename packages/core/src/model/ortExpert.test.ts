import type { InferenceSession } from "onnxruntime-common";
import { describe, expect, it } from "vitest";
import { testExpertEntry } from "../testing/manifests.js";
import { ExpertSchema } from "../manifest/schema.js";
import { OrtExpert, type OrtRuntime } from "./ortExpert.js";

/** A tensor stand-in: what OrtExpert reads of onnxruntime's Tensor. */
class FakeTensor {
  constructor(
    readonly type: string,
    readonly data: Float32Array,
    readonly dims: readonly number[],
  ) {}
}

/** A session that records how many runs overlap; each run takes a few event-loop turns; "fail" inputs throw. */
function fakeSession(inputNames: string[], outputNames: string[], log: string[]) {
  let running = 0;
  const session = {
    inputNames,
    outputNames,
    maxOverlap: 0,
    async run(feeds: Record<string, FakeTensor>) {
      running++;
      session.maxOverlap = Math.max(session.maxOverlap, running);
      const first = Object.values(feeds)[0]!;
      log.push(`start ${first.data[0]}`);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      running--;
      log.push(`end ${first.data[0]}`);
      if (first.data[0] === -1) throw new Error("onnxruntime: bad input");
      const out = new FakeTensor("float32", Float32Array.of(first.data[0]!), [1, 1]);
      return Object.fromEntries(outputNames.map((n) => [n, out]));
    },
    async release() {},
  };
  return session;
}

describe("OrtExpert", () => {
  it("runs requests asked for at once one at a time per session, in the order asked, past a failed one", async () => {
    const log: string[] = [];
    const encoder = fakeSession(["image"], ["embedding"], log);
    const decoder = fakeSession(["embedding", "boxes"], ["logits", "iou"], log);
    const ort = { Tensor: FakeTensor, InferenceSession: {} } as unknown as OrtRuntime;
    const spec = ExpertSchema.parse({ ...testExpertEntry("e", ["*"]), inputSize: 1 });
    const expert = OrtExpert.fromSessions(
      ort,
      spec,
      encoder as unknown as InferenceSession,
      decoder as unknown as InferenceSession,
    );
    const image = (v: number) => new Float32Array(3).fill(v);
    const results = await Promise.allSettled([1, -1, 2].map((v) => expert.encode(image(v))));
    expect(encoder.maxOverlap).toBe(1);
    expect(log).toEqual(["start 1", "end 1", "start -1", "end -1", "start 2", "end 2"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(results[2]).toMatchObject({ status: "fulfilled", value: { data: Float32Array.of(2) } });
    const embedding = { data: Float32Array.of(5), dims: [1] };
    await Promise.all([
      expert.decode(embedding, new Float32Array(4)),
      expert.decode(embedding, new Float32Array(4)),
    ]);
    expect(decoder.maxOverlap).toBe(1);
  });
});
