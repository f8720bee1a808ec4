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
 * Where: $DAFT_CACHE_DIR, else $XDG_CACHE_HOME/daft, else ~/.cache/daft; DAFT_CACHE_DIR=off turns it off.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { arch, cpus, homedir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";

type SessionOptions = ort.InferenceSession.SessionOptions;

export class OptimizedModelCache {
  /** @param dir the cache folder; undefined: no cache (every session optimizes its model). */
  constructor(readonly dir: string | undefined) {}

  /** The cache the environment names (see the file comment). */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): OptimizedModelCache {
    const named = env["DAFT_CACHE_DIR"];
    if (named === "off") return new OptimizedModelCache(undefined);
    if (named) return new OptimizedModelCache(join(named, "ort"));
    const base = env["XDG_CACHE_HOME"] || join(homedir(), ".cache");
    return new OptimizedModelCache(join(base, "daft", "ort"));
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
