import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ParallelExpert,
  parseManifest,
  type Expert,
  type Manifest,
  type Selector,
  type Subsets,
} from "@daft/core";
import { loadSelector, loadSubsets } from "./routingFiles.js";

export { loadSelector };
import { createNodeExpert, type SessionOptions } from "./onnxExpert.js";
import { OptimizedModelCache } from "./optimizedModelCache.js";

/**
 * The experts shipped with the project (<repo>/models), unless DAFT_MODELS says otherwise. Found by walking up
 * from this module, so it works from the compiled modules and from the single-file bundle alike.
 */
export function defaultModelsDir(): string {
  if (process.env["DAFT_MODELS"]) return resolve(process.env["DAFT_MODELS"]);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "models", "manifest.json"))) return join(dir, "models");
    const parent = dirname(dir);
    if (parent === dir) return resolve("models");
    dir = parent;
  }
}

/**
 * A models folder: manifest.json + ONNX files. The manifest is validated on load; each expert's files are
 * checked against their sha256 and turned into sessions lazily, the first time a case is routed to it.
 */
export class ModelStore {
  private readonly experts = new Map<string, Promise<Expert>>();
  /** Per expert loaded: how many of its two sessions came from the optimized-model cache. */
  private readonly cachedSessions = new Map<string, number>();
  /** Per expert loaded: its worker threads (a ParallelExpert's) and why any was lost. */
  private readonly workerThreads = new Map<string, { started: () => number; lost: string[] }>();

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    private readonly sessionOptions: SessionOptions,
    /** The learned selector named by manifest.routing.selector, if any. */
    readonly selector: Selector | undefined,
    /** The cluster subsets named by manifest.routing.subsets (cluster experts), if any. */
    readonly subsets: Subsets | undefined,
  ) {}

  static async open(dir: string, sessionOptions: SessionOptions = {}): Promise<ModelStore> {
    const path = join(dir, "manifest.json");
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      throw new Error(`${path}: no manifest.json here (give a models folder with --models)`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
    }
    let manifest: Manifest;
    try {
      manifest = parseManifest(json);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
    const selector = manifest.routing.selector
      ? await loadSelector(join(dir, manifest.routing.selector))
      : undefined;
    const subsets = manifest.routing.subsets
      ? await loadSubsets(join(dir, manifest.routing.subsets))
      : undefined;
    // The optimized-model cache the environment names, resolved now: a bad DAFT_CACHE_MAX_MB stops the command
    // before any input is read or output written, not at its first expert.
    const cache = sessionOptions.cache ?? OptimizedModelCache.fromEnvironment();
    return new ModelStore(dir, manifest, { ...sessionOptions, cache }, selector, subsets);
  }

  load(name: string): Promise<Expert> {
    let expert = this.experts.get(name);
    if (!expert) {
      expert = this.create(name);
      this.experts.set(name, expert);
    }
    return expert;
  }

  async dispose(): Promise<void> {
    for (const e of this.experts.values()) await (await e.catch(() => null))?.dispose?.();
    this.experts.clear();
  }

  private async create(name: string): Promise<Expert> {
    const spec = this.manifest.experts.find((e) => e.name === name);
    if (!spec) throw new Error(`${this.dir}/manifest.json: no expert named "${name}"`);
    const [encoder, decoder] = await Promise.all([this.verified(spec.encoder), this.verified(spec.decoder)]);
    const lost: string[] = [];
    const expert = await createNodeExpert(
      spec,
      { bytes: encoder, sha256: spec.encoder.sha256 },
      { bytes: decoder, sha256: spec.decoder.sha256 },
      { ...this.sessionOptions, onWorkerLost: (reason) => lost.push(reason) },
    );
    this.cachedSessions.set(name, expert.cachedSessions);
    this.workerThreads.set(name, {
      started: () => (expert instanceof ParallelExpert ? expert.workersStarted : 0),
      lost,
    });
    return expert;
  }

  /**
   * For `--explain`: where the expert's models have run so far — "on the main thread and N worker threads" once
   * workers started, plus any worker lost (the run went on without it); undefined before it is loaded.
   */
  whereModelsRan(name: string): string | undefined {
    const threads = this.workerThreads.get(name);
    if (!threads) return undefined;
    const started = threads.started();
    const where = started
      ? `model runs on the main thread and ${started} worker thread${started === 1 ? "" : "s"}`
      : "model runs on the main thread";
    return threads.lost.length ? `${where} (worker thread lost: ${threads.lost.join("; ")})` : where;
  }

  /**
   * For `--explain`: how the expert's sessions started (from the optimized-model cache, or optimized now), or
   * undefined when it has not been loaded.
   */
  sessionStart(name: string): string | undefined {
    const cached = this.cachedSessions.get(name);
    if (cached === undefined) return undefined;
    return cached === 2
      ? "both sessions from the optimized-model cache"
      : cached === 0
        ? "graphs optimized now (kept in the optimized-model cache unless it is off or unwritable)"
        : "one session from the optimized-model cache, one optimized now";
  }

  private async verified(file: { file: string; sha256: string }): Promise<Uint8Array> {
    const path = join(this.dir, file.file);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      throw new Error(`${path}: model file listed in manifest.json is missing`);
    }
    const digest = createHash("sha256").update(bytes).digest("hex");
    if (digest !== file.sha256) {
      throw new Error(
        `${path}: sha256 ${digest} does not match manifest.json (${file.sha256}); the file is corrupt or stale`,
      );
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}
