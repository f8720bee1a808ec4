// Run an ONNX model with onnxruntime-node on raw float32 inputs; used by the Python package to verify exports
// against PyTorch and to time them.
//
//   node run_onnx.mjs JOB.json
//
// JOB.json: {"model": "encoder.onnx", "inputs": {"image": {"file": "image.f32", "dims": [1, 3, 256, 256]}},
//            "outDir": "out", "threads": 2, "warmup": 1, "repeat": 5}
// Writes <outDir>/<output name>.f32 (little-endian float32, C order) and <outDir>/result.json:
//   {"outputs": {"logits": {"file": "logits.f32", "dims": [...]}}, "timesMs": [...], "medianMs": n}
// onnxruntime-node is resolved from the node_modules of the repository that contains this file.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

function findRepoRoot(start) {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, "node_modules", "onnxruntime-node"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function fail(message) {
  process.stderr.write(message.replace(/\s+/g, " ").trim() + "\n");
  process.exit(1);
}

const jobPath = process.argv[2];
if (!jobPath) fail("usage: node run_onnx.mjs JOB.json");
const here = path.dirname(fileURLToPath(import.meta.url));
const root = findRepoRoot(here) ?? findRepoRoot(process.cwd());
if (!root) fail(`${here}: onnxruntime-node not found in any node_modules above this folder`);
const ort = createRequire(path.join(root, "package.json"))("onnxruntime-node");

let job;
try {
  job = JSON.parse(readFileSync(jobPath, "utf8"));
} catch (e) {
  fail(`${jobPath}: cannot read job: ${e.message}`);
}
const jobDir = path.dirname(path.resolve(jobPath));
const resolve = (p) => (path.isAbsolute(p) ? p : path.join(jobDir, p));

const feeds = {};
for (const [name, spec] of Object.entries(job.inputs)) {
  const bytes = readFileSync(resolve(spec.file));
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const expected = spec.dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) fail(`${spec.file}: has ${data.length} floats, dims ${spec.dims} need ${expected}`);
  feeds[name] = new ort.Tensor("float32", Float32Array.from(data), spec.dims);
}

const threads = job.threads ?? 0;
let session;
try {
  session = await ort.InferenceSession.create(resolve(job.model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
} catch (e) {
  fail(`${job.model}: cannot load model: ${e.message}`);
}

let outputs;
for (let i = 0; i < (job.warmup ?? 0); i++) await session.run(feeds);
const timesMs = [];
for (let i = 0; i < Math.max(1, job.repeat ?? 1); i++) {
  const t0 = process.hrtime.bigint();
  outputs = await session.run(feeds);
  timesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const sorted = [...timesMs].sort((a, b) => a - b);
const medianMs = sorted[Math.floor(sorted.length / 2)];

const outDir = resolve(job.outDir ?? ".");
mkdirSync(outDir, { recursive: true });
const result = { outputs: {}, timesMs, medianMs, inputNames: session.inputNames, outputNames: session.outputNames };
for (const [name, tensor] of Object.entries(outputs)) {
  const file = `${name}.f32`;
  if (job.writeOutputs !== false) {
    const f32 = tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data);
    writeFileSync(path.join(outDir, file), Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength));
  }
  result.outputs[name] = { file, dims: Array.from(tensor.dims), type: tensor.type };
}
writeFileSync(path.join(outDir, "result.json"), JSON.stringify(result));
await session.release?.();
