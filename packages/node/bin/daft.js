#!/usr/bin/env node
// Thin launcher. Start-up latency matters (every case may be a fresh process), so it loads the single-file
// bundle (dist/bundle, built by `npm run build`) when present, else the compiled modules (dist/cli).
import { statSync } from "node:fs";

const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = new URL("../dist/bundle/main.js", import.meta.url);
// A bundle older than the last TypeScript build is stale (tsc ran without `npm run bundle`): use the modules.
const fresh = mtime(bundle) >= mtime(new URL("../tsconfig.tsbuildinfo", import.meta.url));
const { run } = fresh ? await import(bundle.href) : await import("../dist/cli/main.js");

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`daft: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
