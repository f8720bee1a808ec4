import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { boxDecoder, intensityInBoxDecoder } from "../testing/index.js";
import { DEFAULT_CACHE_MAX_BYTES, OptimizedModelCache, pruneCache } from "./optimizedModelCache.js";

const model = boxDecoder().bytes;
const sha256 = createHash("sha256").update(model).digest("hex");
const options: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: "all",
  executionMode: "sequential",
};

/** The decoder's logits for two boxes: what every session of the model must give. */
async function logitsOf(session: ort.InferenceSession): Promise<Float32Array> {
  const out = await session.run({
    embedding: new ort.Tensor("float32", new Float32Array(3 * 256 * 256), [1, 3, 256, 256]),
    boxes: new ort.Tensor("float32", Float32Array.from([10, 20, 100, 90, 0, 0, 255, 5]), [1, 2, 4]),
  });
  return out["logits"]!.data as Float32Array;
}

describe("OptimizedModelCache", () => {
  it("optimizes once, then serves the optimized graph; both sessions compute the same", async () => {
    const dir = mkdtempSync(join(tmpdir(), "daft-ort-cache-"));
    const cache = new OptimizedModelCache(dir);
    const first = await cache.session(model, sha256, options);
    expect(first.cached).toBe(false);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(new RegExp(`^${sha256}-[0-9a-f]{16}\\.onnx$`));
    expect(files[1]).toBe(files[0]!.replace(/\.onnx$/, ".sha256"));
    const second = await cache.session(model, sha256, options);
    expect(second.cached).toBe(true);
    expect(await logitsOf(second.session)).toEqual(await logitsOf(first.session));
  });

  it("rebuilds an entry whose graph does not match its sidecar, or that onnxruntime cannot load", async () => {
    const dir = mkdtempSync(join(tmpdir(), "daft-ort-cache-"));
    const cache = new OptimizedModelCache(dir);
    await cache.session(model, sha256, options);
    const graph = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith(".onnx"))!,
    );
    writeFileSync(graph, "not the graph the sidecar names");
    expect((await cache.session(model, sha256, options)).cached).toBe(false);
    expect((await cache.session(model, sha256, options)).cached).toBe(true);
    // a graph that matches its sidecar but is not a model
    const junk = Buffer.from("junk");
    writeFileSync(graph, junk);
    writeFileSync(
      graph.replace(/\.onnx$/, ".sha256"),
      `${createHash("sha256").update(junk).digest("hex")}\n`,
    );
    const rebuilt = await cache.session(model, sha256, options);
    expect(rebuilt.cached).toBe(false);
    expect(await logitsOf(rebuilt.session)).toHaveLength(2 * 256 * 256);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("works without a cache it can write, and not at all when turned off", async () => {
    const blocked = join(mkdtempSync(join(tmpdir(), "daft-ort-cache-")), "a-file");
    writeFileSync(blocked, "");
    const unwritable = await new OptimizedModelCache(join(blocked, "ort")).session(model, sha256, options);
    expect(unwritable.cached).toBe(false);
    expect(await logitsOf(unwritable.session)).toHaveLength(2 * 256 * 256);

    const off = OptimizedModelCache.fromEnvironment({ DAFT_CACHE_DIR: "off" });
    expect(off.dir).toBeUndefined();
    expect((await off.session(model, sha256, options)).cached).toBe(false);
    expect(OptimizedModelCache.fromEnvironment({ DAFT_CACHE_DIR: "/x" }).dir).toBe("/x/ort");
    expect(OptimizedModelCache.fromEnvironment({ XDG_CACHE_HOME: "/c" }).dir).toBe("/c/daft/ort");
    expect(existsSync(join(blocked, "ort"))).toBe(false);
  });

  it("keeps itself within its bound: least recently used entries go, graph and sidecar together", async () => {
    const dir = mkdtempSync(join(tmpdir(), "daft-ort-cache-"));
    const now = Date.now();
    /** An entry of `kb` kB (graph) last used `hoursAgo` hours ago. */
    const entry = (key: string, kb: number, hoursAgo: number) => {
      const when = new Date(now - hoursAgo * 3600_000);
      for (const [suffix, bytes] of [
        [".onnx", kb * 1024],
        [".sha256", 65],
      ] as const) {
        writeFileSync(join(dir, key + suffix), Buffer.alloc(bytes));
        utimesSync(join(dir, key + suffix), when, when);
      }
    };
    entry("oldest-k", 300, 30);
    entry("older-k", 300, 20);
    entry("recent-k", 300, 10);
    entry("newest-k", 300, 0);
    const stale = join(dir, "x.onnx.123.abcd.tmp");
    const writing = join(dir, "y.onnx.456.ef01.tmp");
    writeFileSync(stale, "");
    writeFileSync(writing, "");
    utimesSync(stale, new Date(now - 2 * 3600_000), new Date(now - 2 * 3600_000));
    writeFileSync(join(dir, "notes.txt"), "not the cache's");

    await pruneCache(dir, 700 * 1024, now);
    expect(readdirSync(dir).sort()).toEqual([
      "newest-k.onnx",
      "newest-k.sha256",
      "notes.txt",
      "recent-k.onnx",
      "recent-k.sha256",
      "y.onnx.456.ef01.tmp",
    ]);
    // The entry used last stays even when it alone is over the bound.
    await pruneCache(dir, 0, now);
    expect(readdirSync(dir).filter((f) => f.startsWith("newest-k") || f.startsWith("recent-k"))).toEqual([
      "newest-k.onnx",
      "newest-k.sha256",
    ]);
  });

  it("marks an entry it serves as used, and prunes when it writes one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "daft-ort-cache-"));
    const cache = new OptimizedModelCache(dir, 0);
    await cache.session(model, sha256, options);
    const graph = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith(".onnx"))!,
    );
    const longAgo = new Date(Date.now() - 48 * 3600_000);
    utimesSync(graph, longAgo, longAgo);
    expect((await cache.session(model, sha256, options)).cached).toBe(true);
    expect(Date.now() - statSync(graph).mtimeMs).toBeLessThan(3600_000);

    // Another model's entry written with a bound of 0: only the entry just written is left.
    const other = intensityInBoxDecoder().bytes;
    const otherSha = createHash("sha256").update(other).digest("hex");
    utimesSync(graph, longAgo, longAgo);
    expect((await cache.session(other, otherSha, options)).cached).toBe(false);
    expect(readdirSync(dir).map((f) => f.slice(0, 64))).toEqual([otherSha, otherSha]);
  });

  it("reads its bound from DAFT_CACHE_MAX_MB", () => {
    expect(OptimizedModelCache.fromEnvironment({}).maxBytes).toBe(DEFAULT_CACHE_MAX_BYTES);
    expect(OptimizedModelCache.fromEnvironment({ DAFT_CACHE_MAX_MB: "64" }).maxBytes).toBe(64 * 1024 * 1024);
    expect(OptimizedModelCache.fromEnvironment({ DAFT_CACHE_MAX_MB: "0" }).maxBytes).toBe(0);
    expect(() => OptimizedModelCache.fromEnvironment({ DAFT_CACHE_MAX_MB: "lots" })).toThrow(
      'DAFT_CACHE_MAX_MB must be a number of megabytes ≥ 0, not "lots"',
    );
  });
});
