#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (npm run build).
import { run } from "../dist/cli/main.js";

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`daft: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
