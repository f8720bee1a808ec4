/**
 * onnxruntime spends most of a fresh process's session start optimizing each graph (fusions, constant folding of
 * the float16 weights' casts, the CPU's blocked layouts): about 130 ms for a shipped decoder and 40 ms for its
 * encoder on this 2-core machine, for every `daft segment` process. The optimized graph does not change between
 * runs on one machine, so it is kept: the first session of a model writes it (onnxruntime's
 * optimizedModelFilePath) into a per-user cache, later processes load it with optimization off.
 *
 * The cached graph may hold layouts for this CPU only (onnxruntime says so), so its key is the model's sha256, the
 * onnxruntime version and the CPU (model name and architecture). Each file has a sidecar with its own sha256,
 * checked before use; a missing, damaged or unloadable entry is rebuilt from the model. Files are written to a
 * temporary name and renamed, so a crash or two processes at once cannot leave half a file under the real name.
 * A cache that cannot be written (read-only home) is skipped: the session is made from the model, as without it.
 *
 * Bounded: every model version a user ever ran leaves an entry (a shipped expert's two graphs are about 4 MB), so
 * after writing one the cache drops the least recently used entries until it holds at most DAFT_CACHE_MAX_MB
 * (default 256) megabytes; an entry served is marked used (its files' modification time), and leftovers of writes
 * that a crash interrupted (`.tmp` files older than an hour) go too. Pruning happens only when an entry is written,
 * never on the path of a cached start.
 *
 * Where: $DAFT_CACHE_DIR, else $XDG_CACHE_HOME/daft, else ~/.cache/daft; DAFT_CACHE_DIR=off turns it off.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { arch, cpus, homedir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";

type SessionOptions = ort.InferenceSession.SessionOptions;

/** The bound without DAFT_CACHE_MAX_MB: some 60 versions of a shipped expert. */
export const DEFAULT_CACHE_MAX_BYTES = 256 * 1024 * 1024;
/** A `.tmp` file this old is a write that a crash interrupted, not one in progress. */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

export class OptimizedModelCache {
  /**
   * @param dir the cache folder; undefined: no cache (every session optimizes its model).
   * @param maxBytes what the folder may hold after an entry is written (least recently used entries go first).
   */
  constructor(
    readonly dir: string | undefined,
    readonly maxBytes = DEFAULT_CACHE_MAX_BYTES,
  ) {}

  /** The cache the environment names (see the file comment). */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): OptimizedModelCache {
    const maxBytes = cacheBound(env["DAFT_CACHE_MAX_MB"]);
    const named = env["DAFT_CACHE_DIR"];
    if (named === "off") return new OptimizedModelCache(undefined, maxBytes);
    if (named) return new OptimizedModelCache(join(named, "ort"), maxBytes);
    const base = env["XDG_CACHE_HOME"] || join(homedir(), ".cache");
    return new OptimizedModelCache(join(base, "daft", "ort"), maxBytes);
  }

  /**
   * A session for `model` (whose sha256 is `sha256`): from the cached optimized graph when a valid one is there,
   * otherwise from the model, fully optimized, writing the optimized graph for the next process.
   */
  async session(
    model: Uint8Array,
    sha256: string,
    options: SessionOptions,
  ): Promise<{ session: ort.InferenceSession; cached: boolean }> {
    if (!this.dir) return { session: await ort.InferenceSession.create(model, options), cached: false };
    const entry = join(this.dir, `${sha256}-${environmentKey()}`);
    const optimized = await readVerified(entry);
    if (optimized) {
      try {
        const session = await ort.InferenceSession.create(optimized, {
          ...options,
          graphOptimizationLevel: "disabled",
        });
        await markUsed(entry);
        return { session, cached: true };
      } catch {
        // An entry onnxruntime cannot load: rebuilt below.
      }
    }
    const temporary = `${entry}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      const session = await ort.InferenceSession.create(model, {
        ...options,
        optimizedModelFilePath: temporary,
        // Without this onnxruntime warns on stderr that the graph it writes may be specific to this machine:
        // exactly why the entry's key names the CPU.
        logSeverityLevel: 3,
      });
      await keep(temporary, entry).catch(() => rm(temporary, { force: true }));
      await pruneCache(this.dir, this.maxBytes).catch(() => undefined);
      return { session, cached: false };
    } catch {
      await rm(temporary, { force: true }).catch(() => undefined);
      return { session: await ort.InferenceSession.create(model, options), cached: false };
    }
  }
}

/** onnxruntime's version and this CPU, hashed short: what an optimized graph depends on besides the model. */
function environmentKey(): string {
  const cpu = cpus()[0]?.model ?? "unknown-cpu";
  return createHash("sha256")
    .update(`${ort.env.versions.node ?? ort.env.versions.common}\0${arch()}\0${cpu}`)
    .digest("hex")
    .slice(0, 16);
}

/** The entry's bytes when the entry and its sidecar agree; undefined otherwise. */
async function readVerified(entry: string): Promise<Uint8Array | undefined> {
  try {
    const [bytes, expected] = await Promise.all([
      readFile(`${entry}.onnx`),
      readFile(`${entry}.sha256`, "utf8"),
    ]);
    const actual = createHash("sha256").update(bytes).digest("hex");
    return actual === expected.trim()
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Moves the optimized graph written at `temporary` into the entry, sidecar last (an entry without one is unused). */
async function keep(temporary: string, entry: string): Promise<void> {
  const bytes = await readFile(temporary);
  const digest = createHash("sha256").update(bytes).digest("hex");
  await rename(temporary, `${entry}.onnx`);
  const sidecar = `${entry}.sha256.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(sidecar, `${digest}\n`);
  await rename(sidecar, `${entry}.sha256`);
}

/** DAFT_CACHE_MAX_MB as bytes: a number of megabytes ≥ 0 (0 keeps only what was just written); else the default. */
function cacheBound(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return DEFAULT_CACHE_MAX_BYTES;
  const megabytes = Number(text);
  if (!Number.isFinite(megabytes) || megabytes < 0) {
    throw new Error(`DAFT_CACHE_MAX_MB must be a number of megabytes ≥ 0, not "${text}"`);
  }
  return megabytes * 1024 * 1024;
}

/** Marks an entry as just used (both files' modification time), so pruning keeps it longest. Best effort. */
async function markUsed(entry: string): Promise<void> {
  const now = new Date();
  await Promise.all(
    [`${entry}.onnx`, `${entry}.sha256`].map((file) => utimes(file, now, now).catch(() => undefined)),
  );
}

/**
 * Drops the least recently used entries (graph and sidecar together) until the folder holds at most `maxBytes`;
 * the entry used last always stays. Also removes `.tmp` files older than an hour. Another process pruning or
 * writing at the same time is harmless: a file gone already is skipped, and an entry that loses its sidecar is
 * never used (it is rebuilt).
 */
export async function pruneCache(dir: string, maxBytes: number, now = Date.now()): Promise<void> {
  const entries = new Map<string, { bytes: number; usedMs: number; files: string[] }>();
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (name.endsWith(".tmp")) {
      if (now - info.mtimeMs > STALE_TEMPORARY_MS) await rm(path, { force: true });
      continue;
    }
    const key = name.replace(/\.(onnx|sha256)$/, "");
    if (key === name) continue; // not the cache's
    const entry = entries.get(key) ?? { bytes: 0, usedMs: 0, files: [] };
    entry.bytes += info.size;
    entry.usedMs = Math.max(entry.usedMs, info.mtimeMs);
    entry.files.push(path);
    entries.set(key, entry);
  }
  const byAge = [...entries.values()].sort((a, b) => a.usedMs - b.usedMs);
  let total = byAge.reduce((sum, entry) => sum + entry.bytes, 0);
  for (const entry of byAge.slice(0, -1)) {
    if (total <= maxBytes) break;
    // The sidecar first: an entry without one is never used, even if its graph could not be removed.
    const ordered = [...entry.files].sort(
      (a, b) => Number(b.endsWith(".sha256")) - Number(a.endsWith(".sha256")),
    );
    for (const file of ordered) await rm(file, { force: true });
    total -= entry.bytes;
  }
}
