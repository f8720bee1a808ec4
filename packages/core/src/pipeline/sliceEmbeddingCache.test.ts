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
});
