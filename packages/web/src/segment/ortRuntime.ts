/**
 * onnxruntime-web for the worker. WASM: the plain SIMD + threads build, its sessions side by side on Web Workers
 * (expertThreads.ts: the core's ParallelExpert, as the Node CLI runs them on worker threads) with one WASM thread
 * each, more only beyond 4 cores and when the page is cross-origin isolated, as `daft serve` makes it. WebGPU: the
 * WebGPU entry, loaded only when the user picks it and an adapter exists; otherwise, or when its sessions fail,
 * the caller falls back to WASM and says why. The runtime's .wasm/.mjs files come from /ort/ on the same server
 * (copied there by the build).
 */
import type { InferenceSession } from "onnxruntime-common";
import type { RuntimeChoice } from "./browserModels.js";
import { startBrowserExpertThread } from "./expertThreads.js";
import { wasmThreads } from "./wasmThreads.js";

type OrtModule = typeof import("onnxruntime-web");

export interface LoadedRuntime extends RuntimeChoice {
  /** "WASM, 4 threads, SIMD" or "WebGPU". */
  description: string;
}

const RUNTIME_FILES = "/ort/";

function configure(ort: OrtModule): void {
  ort.env.wasm.wasmPaths = new URL(RUNTIME_FILES, self.location.origin).href;
  ort.env.wasm.proxy = false; // already off the main thread
  ort.env.logLevel = "error";
}

/** onnxruntime-web's WASM build, set up to run each session on `threads` threads (once per worker). */
export async function loadWasmModule(threads: number): Promise<OrtModule> {
  const ort = (await import("onnxruntime-web/wasm")) as OrtModule;
  configure(ort);
  ort.env.wasm.numThreads = threads;
  return ort;
}

/** The options of every WASM session, the segmentation worker's and its side-by-side workers' alike. */
export function wasmSessionOptions(): InferenceSession.SessionOptions {
  return { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
}

let wasmRuntime: Promise<LoadedRuntime> | undefined;

export function loadWasmRuntime(): Promise<LoadedRuntime> {
  wasmRuntime ??= (async () => {
    const { sessions, threads } = wasmThreads(self.crossOriginIsolated, navigator.hardwareConcurrency || 1);
    const ort = await loadWasmModule(threads);
    const each = `${threads} thread${threads === 1 ? "" : "s"}`;
    return {
      ort,
      key: "wasm",
      sessionOptions: wasmSessionOptions(),
      ...(sessions > 1
        ? {
            sideBySide: {
              threads: sessions,
              spawn: (init) => startBrowserExpertThread({ ...init, wasmThreads: threads }),
            },
          }
        : {}),
      description:
        (sessions > 1 ? `WASM, up to ${sessions} sessions side by side of ${each} each` : `WASM, ${each}`) +
        `, SIMD${self.crossOriginIsolated ? "" : " (page not cross-origin isolated: one thread per session)"}`,
    };
  })();
  return wasmRuntime;
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<object | null> };
}

/** Why WebGPU cannot be used here, or undefined when an adapter is available. */
export async function webGpuUnavailable(): Promise<string | undefined> {
  const gpu = (navigator as GpuNavigator).gpu;
  if (!gpu) return "this browser has no WebGPU";
  try {
    if (!(await gpu.requestAdapter())) return "no WebGPU adapter (GPU disabled or blocked)";
  } catch (e) {
    return `WebGPU adapter request failed: ${(e as Error).message}`;
  }
  return undefined;
}

let webGpuRuntime: Promise<LoadedRuntime> | undefined;

/** The WebGPU runtime; rejects with a one-line reason when WebGPU is not available. */
export function loadWebGpuRuntime(): Promise<LoadedRuntime> {
  webGpuRuntime ??= (async () => {
    const reason = await webGpuUnavailable();
    if (reason) throw new Error(reason);
    const ort = (await import("onnxruntime-web/webgpu")) as OrtModule;
    configure(ort);
    ort.env.wasm.numThreads = wasmThreads(
      self.crossOriginIsolated,
      navigator.hardwareConcurrency || 1,
    ).threads;
    return {
      ort,
      key: "webgpu",
      sessionOptions: { executionProviders: ["webgpu"], graphOptimizationLevel: "all" },
      description: "WebGPU",
    };
  })();
  webGpuRuntime.catch(() => (webGpuRuntime = undefined));
  return webGpuRuntime;
}
