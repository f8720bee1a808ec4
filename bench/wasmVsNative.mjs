#!/usr/bin/env node
// One expert's encoder and decoder on onnxruntime-web's WASM build (what the page runs, here run by Node's V8) and
// on onnxruntime-node's native build, one thread each, calls alternating (not a test). Says how much of the
// browser's gap to the local server is the runtime itself rather than the page's own work. Medians.
//   node bench/wasmVsNative.mjs [models/daft-Microscopy] [--calls 60]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { calls: { type: "string", default: "60" } },
});
const dir = positionals[0] ?? "models/daft-Microscopy";
const calls = Number(o.calls);
ortWeb.env.wasm.numThreads = 1;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function sessions(ort, options) {
  const create = (file) => ort.InferenceSession.create(readFileSync(join(dir, file)), options);
  return { ort, encoder: await create("encoder.onnx"), decoder: await create("decoder.onnx") };
}
const sides = {
  native: await sessions(ortNode, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: "all",
    enableMemPattern: false,
  }),
  wasm: await sessions(ortWeb, { executionProviders: ["wasm"], graphOptimizationLevel: "all" }),
};
let seed = 11;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const image = Float32Array.from({ length: 3 * 256 * 256 }, random);
const boxes = Float32Array.from([40, 50, 120, 160, 10, 20, 60, 90, 150, 150, 220, 240, 100, 30, 140, 70]);
const times = {
  native: { encoder: [], decoder1: [], decoder4: [] },
  wasm: { encoder: [], decoder1: [], decoder4: [] },
};
for (let r = 0; r < calls + 5; r++) {
  for (const name of r % 2 ? ["wasm", "native"] : ["native", "wasm"]) {
    const { ort, encoder, decoder } = sides[name];
    let t = performance.now();
    const { embedding } = await encoder.run({ image: new ort.Tensor("float32", image, [1, 3, 256, 256]) });
    const encodeMs = performance.now() - t;
    const feeds = (n) => ({
      embedding: new ort.Tensor("float32", embedding.data, embedding.dims),
      boxes: new ort.Tensor("float32", boxes.subarray(0, 4 * n), [1, n, 4]),
    });
    t = performance.now();
    await decoder.run(feeds(1));
    const decode1 = performance.now() - t;
    t = performance.now();
    await decoder.run(feeds(4));
    const decode4 = performance.now() - t;
    if (r < 5) continue; // warm-up
    times[name].encoder.push(encodeMs);
    times[name].decoder1.push(decode1);
    times[name].decoder4.push(decode4);
  }
}
console.log(`${dir}: medians of ${calls} calls, one thread each\n`);
console.log(
  "| model call | onnxruntime-node ms | onnxruntime-web WASM ms | WASM ÷ native |\n|---|---:|---:|---:|",
);
for (const [key, label] of [
  ["encoder", "encoder"],
  ["decoder1", "decoder, 1 box"],
  ["decoder4", "decoder, 4 boxes"],
]) {
  const n = median(times.native[key]);
  const w = median(times.wasm[key]);
  console.log(`| ${label} | ${n.toFixed(2)} | ${w.toFixed(2)} | ${(w / n).toFixed(2)} |`);
}
