/**
 * For the server's tests: a models folder of oracle experts whose right answers are known (general: every box
 * painted exactly; CT: the same, for CT; XRay: bright pixels inside the box), a built-looking web folder, and
 * helpers to build multipart requests for the handler.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  readNpz,
  segmentInput,
  writeNpz,
  type BoxPrompts,
  type InputBytes,
  type NdArray,
  type SegmentedInput,
} from "@daft/core";
import { ModelStore } from "../runtime/modelStore.js";
import { boxDecoder, identityEncoder, intensityInBoxDecoder } from "../testing/oracleModels.js";
import { writeOracleModelDir } from "../testing/oracleModelDir.js";
import { createDaftHandler, type DaftHandler, type DaftHandlerOptions } from "./handler.js";

export const BASE = "http://127.0.0.1:8040";

export interface ServerFixture {
  root: string;
  modelsDir: string;
  webDir: string;
  store: ModelStore;
  handler: DaftHandler;
  /** Another handler on the same models, with other options. */
  handlerWith(options: Partial<DaftHandlerOptions>): DaftHandler;
  cleanup(): Promise<void>;
}

export async function serverFixture(options: Partial<DaftHandlerOptions> = {}): Promise<ServerFixture> {
  const root = await mkdtemp(join(tmpdir(), "daft-serve-"));
  const modelsDir = join(root, "models");
  const repoManifest = JSON.parse(
    await readFile(new URL("../../../../fixtures/manifest/valid.json", import.meta.url), "utf8"),
  ) as { routing: { filenameRules: { pattern: string; modality: string }[] } };
  await writeOracleModelDir(
    modelsDir,
    [
      { name: "general", encoder: identityEncoder(), decoder: boxDecoder() },
      { name: "CT", encoder: identityEncoder(), decoder: boxDecoder(), modalities: ["CT"] },
      { name: "XRay", encoder: identityEncoder(), decoder: intensityInBoxDecoder(), modalities: ["XRay"] },
    ],
    { filenameRules: repoManifest.routing.filenameRules },
  );
  const webDir = join(root, "web");
  await mkdir(join(webDir, "assets"), { recursive: true });
  await writeFile(join(webDir, "index.html"), "<!doctype html><title>DAFT</title>\n");
  await writeFile(join(webDir, "assets", "app.js"), "export const app = 1;\n");
  await writeFile(join(webDir, "assets", "worker.mjs"), "export const worker = 1;\n");
  await writeFile(
    join(webDir, "assets", "ort-wasm-simd-threaded.wasm"),
    new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
  );
  const store = await ModelStore.open(modelsDir, { threads: 1 });
  const make = (extra: Partial<DaftHandlerOptions>) =>
    createDaftHandler({
      models: store,
      version: "0.1.0",
      webDir,
      log: () => undefined,
      ...options,
      ...extra,
    });
  return {
    root,
    modelsDir,
    webDir,
    store,
    handler: make({}),
    handlerWith: make,
    cleanup: async () => {
      await store.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A multipart POST/PUT request: text fields and files ([name, bytes] pairs). */
export function multipartRequest(
  path: string,
  fields: Record<string, string>,
  files: [field: string, fileName: string, bytes: Uint8Array][],
  method = "POST",
): Request {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [field, fileName, bytes] of files) form.append(field, new Blob([bytes]), fileName);
  return new Request(`${BASE}${path}`, { method, body: form });
}

const u8 = (data: Uint8Array, shape: number[]): NdArray => ({ data, shape, dtype: "uint8" });
const f64 = (values: number[], shape: number[]): NdArray => ({
  data: Float64Array.from(values),
  shape,
  dtype: "float64",
});

/** A 2D challenge case (H×W RGB) with its own boxes. */
export function case2d(H: number, W: number, boxes: number[][]): Uint8Array {
  const img = new Uint8Array(H * W * 3).map((_, i) => (i * 31) % 256);
  return writeNpz(
    { imgs: u8(img, [H, W, 3]), boxes: f64(boxes.flat(), [boxes.length, 4]) },
    { compress: true },
  );
}

/** The label map the oracle "general" expert gives: each box painted with its index + 1, later boxes on top. */
export function paintedBoxes(H: number, W: number, boxes: number[][]): Uint16Array {
  const expected = new Uint16Array(H * W);
  boxes.forEach(([x0, y0, x1, y1], i) => {
    for (let y = y0!; y <= y1!; y++) for (let x = x0!; x <= x1!; x++) expected[y * W + x] = i + 1;
  });
  return expected;
}

/** What the core's segmentInput gives for the input with the options `daft segment` uses by default. */
export function directSegment(
  store: ModelStore,
  input: InputBytes,
  prompts?: BoxPrompts,
): Promise<SegmentedInput> {
  return segmentInput(input, prompts, {
    manifest: store.manifest,
    loadExpert: (name) => store.load(name),
    now: () => performance.now(),
    shareEmbeddings: true,
    cacheBytes: 1024 * 1024 * 1024,
    smallObjectZoom: true,
    selector: store.selector,
  });
}

/** The 'segs' label map of an .npz result (base64, as the native API sends it): its shape and uint16 labels. */
export function segsOf(base64: string): { shape: number[]; labels: Uint16Array } {
  const segs = readNpz(Buffer.from(base64, "base64")).get("segs");
  if (!segs || !(segs.data instanceof Uint16Array)) throw new Error("the result has no uint16 'segs'");
  return { shape: segs.shape, labels: segs.data };
}
