#!/usr/bin/env node
// Two versions of one model graph side by side (not a test): an encoder or a decoder, e.g. before and after
// `daft_train optimize-graphs`. How long onnxruntime-node takes to make a session from each one's optimized graph
// (what a fresh `daft segment` process does with the optimized-model cache) and to run one call (an encoder on an
// image; a decoder with 1 and with 4 boxes), with one intra-op thread and the engine's session options. The two
// alternate call by call, so a noisy machine slows both alike; medians and the median of the paired ratios. Both
// must give the same outputs bit for bit.
//   git show a77976b:models/daft-CT/decoder.onnx > /tmp/before.onnx
//   node bench/graphPair.mjs /tmp/before.onnx models/daft-CT/decoder.onnx [--calls 400] [--sessions 9]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";

const { values: o, positionals: files } = parseArgs({
  allowPositionals: true,
  options: { calls: { type: "string", default: "400" }, sessions: { type: "string", default: "9" } },
});
if (files.length !== 2) {
  console.error("usage: node bench/graphPair.mjs A.onnx B.onnx [--calls N] [--sessions N]");
  process.exit(2);
}
const options = {
  executionMode: "sequential",
  intraOpNumThreads: 1,
  enableMemPattern: false,
  logSeverityLevel: 3,
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const dir = mkdtempSync(join(tmpdir(), "daft-graph-pair-"));

// Each graph optimized once, as the cache keeps it; then sessions made from the optimized bytes, alternating.
const optimized = [];
for (const [i, file] of files.entries()) {
  const path = join(dir, `${i}.onnx`);
  await ort.InferenceSession.create(readFileSync(file), { ...options, optimizedModelFilePath: path });
  optimized.push(readFileSync(path));
}
rmSync(dir, { recursive: true, force: true });
const create = (i) =>
  ort.InferenceSession.create(optimized[i], { ...options, graphOptimizationLevel: "disabled" });
await create(0); // onnxruntime's own start-up, paid by whichever session comes first
const createMs = [[], []];
for (let r = 0; r < Number(o.sessions); r++) {
  for (const i of r % 2 ? [1, 0] : [0, 1]) {
    const t = performance.now();
    await create(i);
    createMs[i].push(performance.now() - t);
  }
}

let seed = 7;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const sessions = [await create(0), await create(1)];
const isEncoder = sessions[0].inputNames.includes("image");
const cases = isEncoder
  ? [
      [
        "one call",
        {
          image: new ort.Tensor(
            "float32",
            Float32Array.from({ length: 3 * 256 * 256 }, random),
            [1, 3, 256, 256],
          ),
        },
      ],
    ]
  : [1, 4].map((n) => {
      const b = new Float32Array(4 * n);
      for (let k = 0; k < n; k++) {
        const x = random() * 180;
        const y = random() * 180;
        b.set([x, y, x + 8 + random() * 60, y + 8 + random() * 60], 4 * k);
      }
      const embedding = Float32Array.from({ length: 64 * 64 * 64 }, () => random() * 2 - 1);
      return [
        `one call, ${n} box${n > 1 ? "es" : ""}`,
        {
          embedding: new ort.Tensor("float32", embedding, [1, 64, 64, 64]),
          boxes: new ort.Tensor("float32", b, [1, n, 4]),
        },
      ];
    });
const rows = [];
for (const [label, feeds] of cases) {
  const [ra, rb] = [await sessions[0].run(feeds), await sessions[1].run(feeds)];
  for (const name of sessions[0].outputNames) {
    const a = ra[name].data;
    const b = rb[name].data;
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
      console.error(`graphPair: the two graphs give different ${name} (${label})`);
      process.exit(1);
    }
  }
  const ms = [[], []];
  for (let r = 0; r < 20; r++) for (const s of sessions) await s.run(feeds);
  for (let r = 0; r < Number(o.calls); r++) {
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      const t = performance.now();
      await sessions[i].run(feeds);
      ms[i].push(performance.now() - t);
    }
  }
  const ratios = ms[0].map((a, r) => ms[1][r] / a);
  rows.push(
    `| ${label} | ${median(ms[0]).toFixed(2)} | ${median(ms[1]).toFixed(2)} | ${median(ratios).toFixed(3)} |`,
  );
}
const createRatios = createMs[0].map((a, r) => createMs[1][r] / a);
console.log(`A = ${files[0]}, B = ${files[1]}; the same outputs bit for bit; medians\n`);
console.log("| what | A ms | B ms | median ratio B ÷ A |\n|---|---:|---:|---:|");
console.log(
  `| session from the optimized graph | ${median(createMs[0]).toFixed(1)} | ${median(createMs[1]).toFixed(1)} | ${median(createRatios).toFixed(3)} |`,
);
for (const row of rows) console.log(row);
