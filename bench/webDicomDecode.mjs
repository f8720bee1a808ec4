// The web app's decoding of a DICOM series alone, for several builds side by side (not a test): in headless
// Chromium, the page fetches the series' files, starts a build's engine worker (segmentWorker) and times its
// "decode" request → "decoded" reply (compressed slices decoded, volume assembled, display built). Builds alternate
// run by run (A B, B A, …); a fresh worker each run. Prints each run and the medians.
//   npm run build && node bench/webDicomDecode.mjs <series folder> [--repeats 5] <name=web dist>...
// e.g. this build against the one before parallel decoding (session 15), on bench/dicom.mjs's JPEG 2000 series:
//   git worktree add /tmp/daft-before 3771b67 && ln -s "$PWD/node_modules" /tmp/daft-before/node_modules
//   (cd /tmp/daft-before && npx vite build -c packages/web/vite.config.ts)
//   node bench/webDicomDecode.mjs bench/out/dicom/j2k before=/tmp/daft-before/packages/web/dist after=packages/web/dist
import { createServer } from "node:http";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join, normalize, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const root = new URL("..", import.meta.url).pathname;
const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { repeats: { type: "string", default: "5" } },
});
const [series, ...builds] = positionals;
if (!series || builds.length === 0 || builds.some((b) => !b.includes("="))) {
  console.error("usage: node bench/webDicomDecode.mjs <series folder> [--repeats 5] <name=web dist>...");
  process.exit(2);
}
const repeats = Number(o.repeats);
const names = readdirSync(series).sort();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
};

/** A static server for one web build plus the series under /series/, cross-origin isolated as daft serve is. */
function serve(dist) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = path.startsWith("/series/")
      ? join(series, basename(path))
      : normalize(join(dist, path === "/" ? "index.html" : path.slice(1)));
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    if (!file.startsWith(dist) && !path.startsWith("/series/")) return res.writeHead(403).end();
    if (!existsSync(file) || statSync(file).isDirectory()) return res.writeHead(404).end();
    res
      .writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" })
      .end(readFileSync(file));
  });
  return new Promise((done) =>
    server.listen(0, "127.0.0.1", () => done({ server, url: `http://127.0.0.1:${server.address().port}/` })),
  );
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  // the web app test's flags (packages/web/test/harness.ts)
  args: JSON.parse(readFileSync(join(root, "packages/web/test/chromium-flags.json"), "utf8")),
});
const servers = [];
const pages = {};
try {
  for (const build of builds) {
    const [name, dir] = build.split("=");
    const dist = resolve(dir);
    const worker = readdirSync(join(dist, "assets")).find((f) => f.startsWith("segmentWorker-"));
    if (!worker) throw new Error(`${dist}: no assets/segmentWorker-*.js (not a web build?)`);
    const { server, url } = await serve(dist);
    servers.push(server);
    const page = await browser.newPage();
    await page.goto(url);
    pages[name] = { page, worker: `/assets/${worker}` };
  }
  const cores = await Object.values(pages)[0].page.evaluate(() => navigator.hardwareConcurrency);
  const times = Object.fromEntries(Object.keys(pages).map((n) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (const name of r % 2 ? Object.keys(pages).reverse() : Object.keys(pages)) {
      const { page, worker } = pages[name];
      const reply = await page.evaluate(
        async ({ worker, names }) => {
          const files = await Promise.all(
            names.map(async (n) => ({
              name: n,
              bytes: new Uint8Array(await (await fetch(`/series/${n}`)).arrayBuffer()),
            })),
          );
          const w = new Worker(worker, { type: "module" });
          const t = performance.now();
          const data = await new Promise((done) => {
            w.onmessage = (e) => done(e.data);
            w.postMessage({ type: "decode", id: 1, input: { kind: "dicom-series", name: "series", files } });
          });
          const ms = performance.now() - t;
          w.terminate();
          return { ms, type: data.type, message: data.message, decodeWorkers: data.decodeWorkers };
        },
        { worker, names },
      );
      if (reply.type !== "decoded") throw new Error(`${name}: ${reply.message}`);
      times[name].push(reply.ms);
      console.log(
        `${name} run ${r + 1}: ${(reply.ms / 1000).toFixed(2)} s (decode workers: ${reply.decodeWorkers ?? "none reported"})`,
      );
    }
  }
  console.log(
    `${basename(resolve(series))} (${names.length} files), Chromium sees ${cores} cores; median of ${repeats}: ` +
      Object.entries(times)
        .map(([n, xs]) => `${n} ${(median(xs) / 1000).toFixed(2)} s`)
        .join(", "),
  );
} finally {
  await browser.close();
  for (const server of servers) server.close();
}
