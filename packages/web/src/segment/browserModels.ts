/**
 * The models folder `daft serve` publishes at /models/, read the way packages/node/src/runtime/modelStore.ts reads
 * it from disk: manifest.json validated by the core's schema, the learned selector and the cluster subsets it
 * names, and each expert's
 * ONNX files checked against their sha256 (crypto.subtle) before sessions are made — lazily, the first time a
 * case is routed to that expert. Same manifest, same files, same routing as the CLI and the server.
 */
import {
  DaftInputError,
  OrtExpert,
  ParallelExpert,
  type ExpertSpec,
  type ExpertThread,
  parseManifest,
  parseSelector,
  parseSubsets,
  type Expert,
  type Manifest,
  type OrtRuntime,
  type Selector,
  type Subsets,
} from "@daft/core";
import type { InferenceSession } from "onnxruntime-common";

export type Fetcher = (url: string) => Promise<Response>;

/** An onnxruntime-web module and the session options to use it with. */
export interface RuntimeChoice {
  ort: OrtRuntime;
  sessionOptions: InferenceSession.SessionOptions;
  /** Key experts are cached under ("wasm", "webgpu"). */
  key: string;
  /** Sessions side by side on Web Workers (the core's ParallelExpert), where the runtime can: `threads` in all. */
  sideBySide?: { threads: number; spawn: (init: ExpertThreadInit) => Promise<ExpertThread> };
}

/** What a Web Worker opens an expert's sessions from. */
export interface ExpertThreadInit {
  spec: ExpertSpec;
  encoder: Uint8Array;
  decoder: Uint8Array;
}

export class BrowserModelStore {
  private readonly experts = new Map<string, Promise<Expert>>();

  private constructor(
    /** The models folder URL, ending in "/". */
    readonly base: string,
    readonly manifest: Manifest,
    readonly selector: Selector | undefined,
    /** The cluster subsets named by manifest.routing.subsets (cluster experts), if any. */
    readonly subsets: Subsets | undefined,
    private readonly fetcher: Fetcher,
  ) {}

  static async open(base: string, fetcher: Fetcher = (url) => fetch(url)): Promise<BrowserModelStore> {
    const url = new URL("manifest.json", base).href;
    const manifest = await fetchJson(url, fetcher, (json) => parseManifest(json), "no manifest.json here");
    const { selector: selectorFile, subsets: subsetsFile } = manifest.routing;
    const fileNamed = <T>(file: string, parse: (json: unknown, at: string) => T) =>
      fetchJson(new URL(file, base).href, fetcher, parse, "not found");
    const selector = selectorFile ? await fileNamed(selectorFile, parseSelector) : undefined;
    const subsets = subsetsFile ? await fileNamed(subsetsFile, parseSubsets) : undefined;
    return new BrowserModelStore(base, manifest, selector, subsets, fetcher);
  }

  /** The expert's sessions on `runtime`, created once per expert and runtime. */
  load(name: string, runtime: RuntimeChoice): Promise<Expert> {
    const key = `${runtime.key}:${name}`;
    let expert = this.experts.get(key);
    if (!expert) {
      expert = this.create(name, runtime);
      this.experts.set(key, expert);
      expert.catch(() => this.experts.delete(key));
    }
    return expert;
  }

  private async create(name: string, runtime: RuntimeChoice): Promise<Expert> {
    const spec = this.manifest.experts.find((e) => e.name === name);
    if (!spec) throw new Error(`${new URL("manifest.json", this.base).href}: no expert named "${name}"`);
    const [encoder, decoder] = await Promise.all([this.verified(spec.encoder), this.verified(spec.decoder)]);
    const expert = await OrtExpert.create(runtime.ort, spec, encoder, decoder, runtime.sessionOptions);
    const sideBySide = runtime.sideBySide;
    if (!sideBySide || sideBySide.threads <= 1) return expert;
    return new ParallelExpert(expert, {
      threads: sideBySide.threads,
      // A later turn of this worker's event loop (a request is taken on it, never from within another task's
      // timer, so the browser's 4 ms clamp of nested timers does not apply).
      runLater: (task) => void setTimeout(task, 0),
      spawn: () => sideBySide.spawn({ spec, encoder, decoder }),
    });
  }

  private async verified(file: { file: string; sha256: string }): Promise<Uint8Array> {
    const url = new URL(file.file, this.base).href;
    const response = await this.fetcher(url);
    if (!response.ok) {
      throw new Error(`${url}: model file listed in manifest.json is missing (HTTP ${response.status})`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    const digest = await sha256Hex(bytes);
    if (digest !== file.sha256) {
      throw new Error(
        `${url}: sha256 ${digest} does not match manifest.json (${file.sha256}); the file is corrupt or stale`,
      );
    }
    return bytes;
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function fetchJson<T>(
  url: string,
  fetcher: Fetcher,
  parse: (json: unknown, url: string) => T,
  missing: string,
): Promise<T> {
  let response: Response;
  try {
    response = await fetcher(url);
  } catch (e) {
    throw new Error(`${url}: cannot be fetched (${(e as Error).message})`);
  }
  if (!response.ok) throw new Error(`${url}: ${missing} (HTTP ${response.status})`);
  let json: unknown;
  try {
    json = JSON.parse(await response.text());
  } catch (e) {
    throw new Error(`${url}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return parse(json, url);
  } catch (e) {
    throw new Error(
      e instanceof DaftInputError && e.source ? e.oneLine() : `${url}: ${(e as Error).message}`,
    );
  }
}
