/**
 * The in-browser engine, off the main thread: decodes inputs for display, and segments them with segmentInput from
 * @daft/core — the function `daft segment` calls — on onnxruntime-web experts from /models/. Progress is the core's:
 * slice steps (3D) or image parts (2D tiles and decoder chunks) painted of all. Test-time mirroring follows the
 * manifest, as in `daft segment`.
 */
import { DaftInputError, parseCtWindow, routingOptions, segmentInput, type Expert } from "@daft/core";
import { decodeInput } from "../input/decodeInput.js";
import { BrowserModelStore } from "./browserModels.js";
import { decodeSeriesOnWebWorkers } from "./dicomDecodePool.js";
import type { Backend, SegmentOutcome, WorkerReply, WorkerRequest } from "./messages.js";
import { loadWasmRuntime, loadWebGpuRuntime, type LoadedRuntime } from "./ortRuntime.js";
import { SeriesPixelCache } from "./seriesPixelCache.js";

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (reply: WorkerReply, transfer: Transferable[] = []) => scope.postMessage(reply, transfer);

let models: Promise<BrowserModelStore> | undefined;
/** The last opened series' compressed slices, decoded on a pool of workers and reused when it is segmented. */
const seriesPixels = new SeriesPixelCache(decodeSeriesOnWebWorkers);

function openModels(): Promise<BrowserModelStore> {
  models ??= BrowserModelStore.open(new URL("/models/", self.location.origin).href);
  models.catch(() => (models = undefined));
  return models;
}

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  try {
    if (request.type === "decode") {
      const { input, decodeWorkers } = await seriesPixels.decodeAndKeep(request.input);
      post({ type: "decoded", id: request.id, decoded: await decodeInput(input), decodeWorkers });
      return;
    }
    const { outcome, labels } = await segment(request);
    post({ type: "segmented", id: request.id, outcome, labels }, [labels.buffer]);
  } catch (e) {
    post({ type: "error", id: request.id, message: oneLine(e) });
  }
};

async function segment(request: Extract<WorkerRequest, { type: "segment" }>) {
  const progress = (stage: string, done: number, total: number) =>
    post({ type: "progress", id: request.id, stage, done, total });
  progress("loading models", 0, 1);
  const [store, runtime] = await Promise.all([openModels(), pickRuntime(request.backend)]);
  const parts = request.boxes[0]?.length === 6 ? "slices" : "image parts";
  let fellBack = "";
  const loadExpert = async (name: string): Promise<Expert> => {
    progress(`loading expert ${name}`, 0, 1);
    let expert: Expert;
    try {
      expert = await store.load(name, runtime);
    } catch (e) {
      if (runtime.key !== "webgpu") throw e;
      fellBack = ` (WebGPU failed: ${oneLine(e)}; fell back to WASM)`;
      expert = await store.load(name, await loadWasmRuntime());
    }
    progress(`segmenting ${parts}`, 0, 1);
    return expert;
  };
  const { overrides } = request;
  const result = await segmentInput(
    seriesPixels.attach(request.input),
    { boxes: request.boxes, world: false },
    {
      ...routingOptions(store),
      loadExpert,
      now: () => performance.now(),
      onProgress: (done, total) => progress(`segmenting ${parts}`, done, total),
      ...(overrides.expert ? { expert: overrides.expert } : {}),
      ...(overrides.modality ? { modality: overrides.modality } : {}),
      ...(overrides.window ? { window: parseCtWindow(overrides.window) } : {}),
      ...(overrides.mirroring ? { mirroring: overrides.mirroring } : {}),
      ...(overrides.edges === "off" ? { edgeRefinement: null } : {}),
      shareEmbeddings: true,
      smallObjectZoom: true,
      cacheBytes: 512 * 1024 * 1024,
    },
  );
  const outcome: SegmentOutcome = {
    format: result.format,
    output: result.output,
    extension: result.extension,
    record: result.record,
    runtime: `this browser · ${runtime.description}${fellBack}`,
  };
  return { outcome, labels: result.labels };
}

/** WebGPU when asked for and available; otherwise WASM, saying why WebGPU was not used. */
async function pickRuntime(backend: Backend): Promise<LoadedRuntime> {
  if (backend === "wasm") return loadWasmRuntime();
  try {
    return await loadWebGpuRuntime();
  } catch (e) {
    const wasm = await loadWasmRuntime();
    return { ...wasm, description: `${wasm.description} (WebGPU unavailable: ${oneLine(e)})` };
  }
}

function oneLine(e: unknown): string {
  if (e instanceof DaftInputError) return e.oneLine();
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").trim();
}
