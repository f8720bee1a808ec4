/**
 * Builds the web app into packages/web/dist (what `daft serve` hosts at /). Everything the page needs is local:
 * the onnxruntime-web WebAssembly binaries and their loaders are copied to dist/ort/ (the worker sets
 * ort.env.wasm.wasmPaths = "/ort/"), the core is compiled from source, niivue is bundled.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defaultClientConditions, defineConfig, type Plugin } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The runtime files onnxruntime-web loads by URL: the plain SIMD+threads build for WASM and the asyncify build
 * the WebGPU entry uses (fetched only when the user picks WebGPU).
 */
export const ORT_RUNTIME_FILES = [
  "ort-wasm-simd-threaded.wasm",
  "ort-wasm-simd-threaded.mjs",
  "ort-wasm-simd-threaded.asyncify.wasm",
  "ort-wasm-simd-threaded.asyncify.mjs",
];

function copyOrtRuntime(): Plugin {
  let outDir = "";
  return {
    name: "daft-copy-ort-runtime",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const target = `${outDir}/ort`;
      mkdirSync(target, { recursive: true });
      const dist = here("../../node_modules/onnxruntime-web/dist/");
      for (const file of ORT_RUNTIME_FILES) copyFileSync(`${dist}${file}`, `${target}/${file}`);
    },
  };
}

/** Cross-origin isolation (SharedArrayBuffer for onnxruntime-web threads), as `daft serve` sends it. */
const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: here("."),
  base: "/",
  resolve: {
    alias: { "@daft/core": here("../core/src/index.ts") },
    // onnxruntime-web's entries that load the .wasm from ort.env.wasm.wasmPaths instead of bundling it.
    conditions: ["onnxruntime-web-use-extern-wasm", ...defaultClientConditions],
  },
  worker: { format: "es" },
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 2500,
  },
  plugins: [copyOrtRuntime()],
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
