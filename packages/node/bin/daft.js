#!/usr/bin/env node
// Thin launcher. Start-up latency matters (every case may be a fresh process), so it loads the single-file
// bundle (dist/bundle, built by `npm run build`) when present, else the compiled modules (dist/cli).
import { existsSync } from "node:fs";

const bundle = new URL("../dist/bundle/main.js", import.meta.url);
const { run } = existsSync(bundle) ? await import(bundle.href) : await import("../dist/cli/main.js");

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`daft: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
