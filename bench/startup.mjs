// Start-up of a fresh `daft segment` process with and without the optimized-model cache (not a test): the same
// case segmented by a new process each run, alternating three modes — "off" (DAFT_CACHE_DIR=off: onnxruntime
// optimizes both graphs every time, as before session 15), "cold" (an empty cache: optimizes and writes the cache)
// and "warm" (the cache written: sessions load the optimized graphs with optimization off). Wall time from spawn
// to exit; medians. Every mode must write the same label map.
//   npm run build && node bench/startup.mjs [--repeats 9] [case.npz ...]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname;
const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { repeats: { type: "string", default: "9" } },
});
const cases = positionals.length
  ? positionals
  : [
      "examples/cases/imgs/2DBox_US_hc18-fetal-head_hc18_0047.npz",
      "examples/cases/imgs/3DBox_MR_msd-hippocampus_hippo_0021.npz",
    ].map((c) => join(root, c));
const repeats = Number(o.repeats);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = mkdtempSync(join(tmpdir(), "daft-startup-"));
const warm = join(work, "warm-cache");

function run(input, cacheDir, out) {
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    [join(root, "packages/node/bin/daft.js"), "segment", input, "-o", out, "--quiet"],
    {
      env: { ...process.env, DAFT_CACHE_DIR: cacheDir },
      encoding: "utf8",
    },
  );
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${input} (${cacheDir}): exit ${r.status}: ${r.stderr}`);
  return { ms, labels: readFileSync(join(out, basename(input))) };
}

try {
  console.log("| case | off (s) | cold (s) | warm (s) | warm ÷ off |\n|---|---:|---:|---:|---:|");
  for (const input of cases) {
    run(input, warm, join(work, "out-prime")); // writes the warm cache
    const times = { off: [], cold: [], warm: [] };
    let reference;
    for (let r = 0; r < repeats; r++) {
      const modes = ["off", "cold", "warm"];
      for (const mode of r % 2 ? modes.reverse() : modes) {
        const cacheDir = mode === "off" ? "off" : mode === "warm" ? warm : mkdtempSync(join(work, "cold-"));
        const { ms, labels } = run(input, cacheDir, join(work, `out-${mode}`));
        if (mode === "cold") rmSync(cacheDir, { recursive: true, force: true });
        reference ??= labels;
        if (!labels.equals(reference)) throw new Error(`${input}: mode ${mode} wrote another label map`);
        times[mode].push(ms);
      }
    }
    const [off, cold, w] = [median(times.off), median(times.cold), median(times.warm)];
    console.log(
      `| ${basename(input)} | ${(off / 1000).toFixed(2)} | ${(cold / 1000).toFixed(2)} | ${(w / 1000).toFixed(2)} | ${(w / off).toFixed(2)} |`,
    );
  }
  console.log(`\nmedians of ${repeats} fresh processes per mode, modes alternating`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
