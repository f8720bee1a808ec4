import { describe, expect, it } from "vitest";
import { SliceEmbeddingCache } from "./sliceEmbeddingCache.js";

const emb = (v: number) => ({ data: new Float32Array(256).fill(v), dims: [256] }); // 1 KiB

describe("SliceEmbeddingCache", () => {
  it("computes each slice once while planned uses remain, then drops it", async () => {
    const cache = new SliceEmbeddingCache({ maxBytes: 1 << 20, enabled: true });
    cache.plan(3, 2);
    let calls = 0;
    const compute = async () => {
      calls++;
      return emb(3);
    };
    await cache.get(3, compute);
    expect(cache.size).toBe(1);
    await cache.get(3, compute);
    expect(calls).toBe(1);
    expect(cache.size).toBe(0); // last planned use done
    expect(cache.stats).toMatchObject({ encodes: 1, hits: 1 });
  });
  it("evicts least recently used entries beyond its byte bound", async () => {
    const cache = new SliceEmbeddingCache({ maxBytes: 2048, enabled: true });
    for (const k of [1, 2, 3]) cache.plan(k, 2);
    for (const k of [1, 2, 3]) await cache.get(k, async () => emb(k));
    expect(cache.size).toBe(2);
    expect(cache.stats.evictions).toBe(1);
    expect(cache.stats.peakBytes).toBeLessThanOrEqual(2048);
  });
  it("counts every pass of a mirrored embedding against its byte bound", async () => {
    const cache = new SliceEmbeddingCache({ maxBytes: 4 * 1024, enabled: true });
    const mirrored = (k: number) => {
      const passes = [0, 1, 2, 3].map(() => emb(k));
      return { ...passes[0]!, passes };
    };
    for (const k of [1, 2]) cache.plan(k, 2);
    for (const k of [1, 2]) await cache.get(k, async () => mirrored(k));
    // Each entry holds four passes: the second does not fit beside the first.
    expect(cache.size).toBe(1);
    expect(cache.stats.evictions).toBe(1);
    expect(cache.stats.peakBytes).toBe(4 * emb(1).data.byteLength);
  });
  it("disabled: recomputes every time (the reference pipeline)", async () => {
    const cache = new SliceEmbeddingCache({ maxBytes: 1 << 20, enabled: false });
    cache.plan(0, 3);
    for (let i = 0; i < 3; i++) await cache.get(0, async () => emb(0));
    expect(cache.stats.encodes).toBe(3);
  });
  it("shares one in-flight computation between concurrent requests", async () => {
    const cache = new SliceEmbeddingCache();
    cache.plan(5, 2);
    let calls = 0;
    const compute = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return emb(5);
    };
    await Promise.all([cache.get(5, compute), cache.get(5, compute)]);
    expect(calls).toBe(1);
  });
  it("prefetch: computes a planned slice ahead, not as a use or a hit; a slice held, on its way or unplanned is left", async () => {
    const cache = new SliceEmbeddingCache();
    cache.plan(1, 2);
    let calls = 0;
    let finish: (() => void) | undefined;
    const compute = () =>
      new Promise<ReturnType<typeof emb>>((resolve) => {
        calls++;
        finish = () => resolve(emb(1));
      });
    cache.prefetch(1, compute);
    cache.prefetch(1, compute); // on its way already
    cache.prefetch(2, compute); // no use planned
    expect(calls).toBe(1);
    const first = cache.get(1, compute); // waits for the prefetch
    finish!();
    expect((await first).data[0]).toBe(1);
    expect(cache.size).toBe(1); // one planned use left: kept
    await cache.get(1, compute);
    expect(calls).toBe(1);
    expect(cache.size).toBe(0);
    expect(cache.stats).toMatchObject({ encodes: 1, hits: 1 }); // the second use was the hit

    // Finished before its use: held until then, and still not a hit.
    const ahead = new SliceEmbeddingCache();
    ahead.plan(3, 1);
    ahead.prefetch(3, async () => emb(3));
    await new Promise((r) => setImmediate(r));
    expect(ahead.size).toBe(1);
    await ahead.get(3, async () => emb(99));
    expect([ahead.size, ahead.stats.encodes, ahead.stats.hits]).toEqual([0, 1, 0]);

    // A failed prefetch is computed again by the use that comes later; off, nothing is fetched ahead.
    const failing = new SliceEmbeddingCache();
    failing.plan(4, 1);
    failing.prefetch(4, async () => {
      throw new Error("encoder failed");
    });
    await new Promise((r) => setImmediate(r));
    expect((await failing.get(4, async () => emb(4))).data[0]).toBe(4);
    expect(failing.stats).toMatchObject({ encodes: 1, hits: 0 });
    const off = new SliceEmbeddingCache({ maxBytes: 1 << 20, enabled: false });
    off.plan(5, 1);
    off.prefetch(5, compute);
    expect(calls).toBe(1);
  });
});
