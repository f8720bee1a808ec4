// Latency a user waits for with a warm `daft serve` versus a fresh `daft segment` process per case (not a
// test). For each case, alternately: the CLI spawned → exit (label map written), and one POST /api/v1/segment
// round trip to a server started once (the first request per expert, which creates its sessions, is a warm-up
// and not counted). Both run in this one process, side by side, so the ratio is fair on a noisy machine.
//   npm run build && node bench/run.mjs --generate-only && node bench/serve.mjs [--repeats 5] [--models models]
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { measureProcess, startDaftServe } from "./measure.mjs";

const root = new URL("..", import.meta.url).pathname;
const { values: o } = parseArgs({
  options: {
    repeats: { type: "string", default: "5" },
    models: { type: "string", default: join(root, "models") },
  },
});
const repeats = Number(o.repeats);
const daft = join(root, "packages/node/bin/daft.js");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases = [
  ...readdirSync(join(root, "examples/cases/imgs")).map((f) => join(root, "examples/cases/imgs", f)),
  ...["2DBox_Dermoscopy_bench_1box.npz", "2DBox_Microscopy_bench_241boxes.npz"]
    .map((f) => join(root, "bench/out/cases", f))
    .filter((p) => existsSync(p)),
];

const { server, url } = await startDaftServe(root, ["--models", o.models]);

async function postSegment(path) {
  const form = new FormData();
  form.append("request", JSON.stringify({}));
  form.append("file", new Blob([readFileSync(path)]), basename(path));
  const t = performance.now();
  const response = await fetch(new URL("api/v1/segment", url), { method: "POST", body: form });
  const body = await response.json();
  const ms = performance.now() - t;
  if (!response.ok) throw new Error(`${basename(path)}: HTTP ${response.status} ${body.error}`);
  return { ms, expert: body.record.route.expert, engineMs: body.record.totalMs };
}

const out = await mkdtemp(join(tmpdir(), "daft-bench-serve-"));
const rows = [];
try {
  for (const path of cases) {
    await postSegment(path); // warm-up: the expert's sessions are created on its first case
    const cli = [];
    const warm = [];
    let expert = "";
    for (let r = 0; r < repeats; r++) {
      const runCli = async () => {
        const args = [daft, "segment", path, "-o", out, "--models", o.models, "--quiet"];
        const m = await measureProcess(process.execPath, args, { timeoutMs: 600_000, cwd: root });
        if (m.exitCode !== 0) throw new Error(`${basename(path)}: daft segment failed: ${m.stderrTail}`);
        cli.push(m.wallMs);
      };
      const runServer = async () => {
        const s = await postSegment(path);
        warm.push(s.ms);
        expert = s.expert;
      };
      if (r % 2 === 0) await runCli().then(runServer);
      else await runServer().then(runCli);
    }
    const c = median(cli);
    const w = median(warm);
    rows.push(
      `| ${basename(path)} | ${expert} | ${(c / 1000).toFixed(2)} | ${(w / 1000).toFixed(2)} | ${(c / w).toFixed(1)}× |`,
    );
    process.stderr.write(`${basename(path)}: CLI ${c.toFixed(0)} ms, warm server ${w.toFixed(0)} ms\n`);
  }
} finally {
  server.kill("SIGTERM");
  await rm(out, { recursive: true, force: true });
}
console.log(`Medians of ${repeats} runs each, measured alternately in one run.\n`);
console.log("| case | expert | fresh `daft segment` s | warm `daft serve` request s | ratio |");
console.log("|---|---|---:|---:|---:|");
for (const row of rows) console.log(row);
