/**
 * The inference queue alone (order, one at a time, the bound, aborts), then through the handler: concurrent
 * segment requests all succeed with their own results, and an overflowing queue answers 503 with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceQueue } from "./queue.js";
import { HttpError } from "./responses.js";
import { SegmentResponseSchema } from "./schemas.js";
import {
  case2d,
  multipartRequest,
  paintedBoxes,
  segsOf,
  serverFixture,
  type ServerFixture,
} from "./testFixture.js";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("InferenceQueue", () => {
  it("runs tasks one at a time in arrival order", async () => {
    const queue = new InferenceQueue(10);
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([
      queue.run(task("a", 20)),
      queue.run(task("b", 1)),
      queue.run(task("c", 5)),
    ]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(queue.running).toBe(false);
  });

  it("keeps going after a task fails", async () => {
    const queue = new InferenceQueue(2);
    const failing = queue.run(() => Promise.reject(new Error("boom")));
    const next = queue.run(async () => "next");
    await expect(failing).rejects.toThrow("boom");
    await expect(next).resolves.toBe("next");
  });

  it("refuses with 503 and Retry-After once maxWaiting requests wait", async () => {
    const queue = new InferenceQueue(1);
    const gate = deferred();
    const first = queue.run(() => gate.promise);
    const second = queue.run(async () => "second");
    const third = queue.run(async () => "third");
    await expect(third).rejects.toBeInstanceOf(HttpError);
    await third.catch((e: HttpError) => {
      expect(e.status).toBe(503);
      expect(Number(e.headers["Retry-After"])).toBeGreaterThanOrEqual(1);
    });
    gate.resolve();
    await first;
    await expect(second).resolves.toBe("second");
  });

  it("drops a waiting task whose client left, without running it", async () => {
    const queue = new InferenceQueue(4);
    const gate = deferred();
    const first = queue.run(() => gate.promise);
    const aborter = new AbortController();
    let ran = false;
    const left = queue.run(async () => {
      ran = true;
    }, aborter.signal);
    expect(queue.waiting).toBe(1);
    aborter.abort();
    await expect(left).rejects.toThrow(/client closed the connection/);
    expect(queue.waiting).toBe(0);
    gate.resolve();
    await first;
    expect(ran).toBe(false);
  });
});

describe("concurrent requests through the handler", () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(() => fx.cleanup());

  it("six segment requests at once all succeed, each with its own correct label map", async () => {
    const requests = Array.from({ length: 6 }, (_, i) => {
      const boxes = [[10 * i, 5 * i, 10 * i + 40 + i, 5 * i + 30]];
      const request = multipartRequest("/api/v1/segment", { request: JSON.stringify({ boxes }) }, [
        ["file", `case${i}.npz`, case2d(256, 256, [[0, 0, 1, 1]])],
      ]);
      return { boxes, response: fx.handler(request) };
    });
    const results = await Promise.all(requests.map((r) => r.response));
    for (const [i, response] of results.entries()) {
      expect(response.status).toBe(200);
      const body = SegmentResponseSchema.parse(await response.json());
      expect(body.fileName).toBe(`case${i}.npz`);
      const segs = segsOf(body.output);
      expect(Array.from(segs.labels)).toEqual(Array.from(paintedBoxes(256, 256, requests[i]!.boxes)));
    }
  });

  it("answers 503 with Retry-After to requests beyond the queue's bound; the queued ones still succeed", async () => {
    const queue = new InferenceQueue(2);
    const handler = fx.handlerWith({ queue });
    const gate = deferred();
    const busy = queue.run(() => gate.promise); // the "running" inference
    const send = (i: number) =>
      handler(
        multipartRequest(
          "/infer/daft?output=json",
          { params: JSON.stringify({ boxes: [[0, 0, 9 + i, 9]] }) },
          [["file", `case${i}.npz`, case2d(256, 256, [[0, 0, 1, 1]])]],
        ),
      );
    const waiting = [send(0), send(1)];
    while (queue.waiting < 2) await new Promise((r) => setTimeout(r, 5));
    const refused = await send(2);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toEqual({
      error: "server busy: 2 inference requests are already waiting; retry later",
    });
    gate.resolve();
    await busy;
    for (const response of await Promise.all(waiting)) expect(response.status).toBe(200);
  });
});
