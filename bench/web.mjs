// The web app's two execution modes side by side (not a test): in headless Chromium against `daft serve`, each
// example case is opened on the page (its own boxes listed) and segmented alternately "in this browser"
// (onnxruntime-web WASM, in a worker) and on the "local server" (onnxruntime-node). Per mode: the engine's own
// time (record.totalMs: decode → label map) and the time the user waits (click → mask shown). Medians.
//   npm run build && node bench/web.mjs [--repeats 5]
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { startDaftServe } from "./measure.mjs";

const root = new URL("..", import.meta.url).pathname;
const { values: o } = parseArgs({ options: { repeats: { type: "string", default: "5" } } });
const repeats = Number(o.repeats);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
if (!existsSync("/usr/bin/chromium"))
  throw new Error("bench/web.mjs needs Debian's chromium (/usr/bin/chromium)");

const { server, url } = await startDaftServe(root, []);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  // the web app test's flags (packages/web/test/harness.ts)
  args: JSON.parse(readFileSync(join(root, "packages/web/test/chromium-flags.json"), "utf8")),
});
const rows = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  await page.waitForFunction(() => "__daft" in window);
  const state = () => page.evaluate(() => window.__daft.state());
  const threads = await page.evaluate(() => navigator.hardwareConcurrency);
  async function segment(mode) {
    await page.check(`input[name="mode"][value="${mode}"]`);
    const runs = (await state()).segmentRuns;
    const t = performance.now();
    await page.click("#segment-button");
    await page.waitForFunction((n) => window.__daft.state().segmentRuns > n, runs, { timeout: 600_000 });
    const waited = performance.now() - t;
    const s = await state();
    if (s.segmentError) throw new Error(s.segmentError);
    return { waited, engine: s.result.engineMs, expert: s.result.expert };
  }
  const dir = join(root, "examples/cases/imgs");
  for (const name of readdirSync(dir).sort()) {
    await page.setInputFiles("#file-input", join(dir, name));
    await page.waitForFunction((n) => window.__daft.state().image?.name === n, name);
    const boxes = (await state()).boxes.length;
    if (boxes === 0) {
      // Every example case carries its own boxes; one without any would have nothing to segment.
      rows.push(`| ${name} | (no boxes in the file) | | | | | | |`);
      continue;
    }
    await segment("wasm"); // warm-up: sessions created, expert loaded, once per mode
    await segment("server");
    const m = { wasm: { waited: [], engine: [] }, server: { waited: [], engine: [] } };
    let expert = "";
    for (let r = 0; r < repeats; r++) {
      for (const mode of r % 2 === 0 ? ["wasm", "server"] : ["server", "wasm"]) {
        const s = await segment(mode);
        m[mode].waited.push(s.waited);
        m[mode].engine.push(s.engine);
        expert = s.expert;
      }
    }
    const f = (xs) => (median(xs) / 1000).toFixed(2);
    rows.push(
      `| ${name} | ${boxes} | ${expert} | ${f(m.wasm.engine)} | ${f(m.wasm.waited)} | ${f(m.server.engine)} | ` +
        `${f(m.server.waited)} | ${(median(m.wasm.waited) / median(m.server.waited)).toFixed(1)}× |`,
    );
    process.stderr.write(`${name}: done\n`);
  }
  console.log(
    `Medians of ${repeats} runs per mode, alternating, after one warm-up each; Chromium sees ${threads} cores.\n`,
  );
  console.log(
    "| case | boxes | expert | browser engine s | browser waited s | server engine s | server waited s | browser ÷ server (waited) |",
  );
  console.log("|---|---:|---|---:|---:|---:|---:|---:|");
  for (const row of rows) console.log(row);
} finally {
  await browser.close();
  server.kill("SIGTERM");
}
