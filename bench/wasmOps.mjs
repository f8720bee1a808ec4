#!/usr/bin/env node
// Where one model's time goes, per operator type, on onnxruntime-web's WASM build and on onnxruntime-node's native
// one (not a test): each runtime's own profiler (enableProfiling) over 30 calls, one thread each. Profiling slows
// every kernel, so read the shares, not the times. onnxruntime-web prints its profile on stdout, so each runtime
// runs in a child process of this script.
//   node bench/wasmOps.mjs [models/daft-Microscopy/encoder.onnx] [--top 10]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "10" }, child: { type: "string" } },
});
const model = positionals[0] ?? "models/daft-Microscopy/encoder.onnx";
const CALLS = 30;

if (o.child) {
  // Child: profile `model` on one runtime; the native profile goes to a file in the folder given.
  const [runtime, dir] = o.child.split(":");
  const ort = runtime === "wasm" ? await import("onnxruntime-web") : await import("onnxruntime-node");
  if (runtime === "wasm") ort.env.wasm.numThreads = 1;
  const options =
    runtime === "wasm"
      ? { executionProviders: ["wasm"], graphOptimizationLevel: "all", enableProfiling: true }
      : {
          intraOpNumThreads: 1,
          graphOptimizationLevel: "all",
          enableMemPattern: false,
          enableProfiling: true,
          profileFilePrefix: join(dir, "native"),
        };
  const session = await ort.InferenceSession.create(readFileSync(model), options);
  const feeds = {};
  for (const [i, name] of session.inputNames.entries()) {
    const dims = session.inputMetadata?.[i]?.shape?.map((d) => (typeof d === "number" ? d : 1)) ?? [];
    const size = dims.reduce((a, b) => a * b, 1);
    const data =
      name === "boxes"
        ? Float32Array.from({ length: size }, (_, k) => [40, 50, 120, 160][k % 4])
        : Float32Array.from({ length: size }, () => Math.random());
    feeds[name] = new ort.Tensor("float32", data, dims);
  }
  for (let r = 0; r < CALLS; r++) await session.run(feeds);
  session.endProfiling();
  process.exit(0);
}

function opShares(events) {
  const byOp = new Map();
  let total = 0;
  for (const e of events) {
    if (e.cat !== "Node" || !String(e.name).endsWith("_kernel_time")) continue;
    const op = e.args?.op_name ?? "?";
    const entry = byOp.get(op) ?? { us: 0, calls: 0 };
    entry.us += e.dur;
    entry.calls++;
    byOp.set(op, entry);
    total += e.dur;
  }
  return { byOp, total };
}

const dir = mkdtempSync(join(tmpdir(), "daft-wasm-ops-"));
const self = new URL(import.meta.url).pathname;
const profiles = {};
for (const runtime of ["native", "wasm"]) {
  const run = spawnSync(process.execPath, [self, model, `--child=${runtime}:${dir}`], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (run.status !== 0) throw new Error(`${runtime} profile failed: ${run.stderr}`);
  const text =
    runtime === "wasm"
      ? run.stdout
      : readFileSync(
          join(
            dir,
            readdirSync(dir).find((f) => f.startsWith("native")),
          ),
          "utf8",
        );
  const json = text.slice(text.indexOf("["), text.lastIndexOf("]") + 1);
  profiles[runtime] = opShares(JSON.parse(json.replace(/,\s*\]$/, "]")));
}
rmSync(dir, { recursive: true, force: true });
console.log(
  `${model}: share of kernel time per operator type, ${CALLS} calls each, one thread, profiling on\n`,
);
console.log("| runtime | operator | nodes run per call | share of kernel time |\n|---|---|---:|---:|");
for (const [runtime, { byOp, total }] of Object.entries(profiles)) {
  const rows = [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, Number(o.top));
  for (const [op, { us, calls }] of rows)
    console.log(
      `| ${runtime} | ${op} | ${Math.round(calls / CALLS)} | ${((100 * us) / total).toFixed(1)} % |`,
    );
}
