#!/bin/bash
# build_prototype.sh <out-dir> <VARIABLE>: the working tree's CLI (with a prototype patch applied) bundled into
# <out-dir>, plus <out-dir>/daft.mjs, which runs it as `daft` with the environment variable VARIABLE handed to the
# prototype (the core reads it from globalThis: the core itself has no process.env).
set -euo pipefail
P=$1 VAR=$2
rm -rf "$P"
node_modules/.bin/esbuild packages/node/src/cli/main.ts packages/node/src/io/dicomDecodeWorker.ts --bundle \
  --splitting --platform=node --format=esm --target=node20 --external:onnxruntime-node \
  --alias:@daft/core=./packages/core/src/index.ts --outdir="$P" --entry-names=[name] \
  --chunk-names=chunks/[name]-[hash] --log-level=warning
cat > "$P/daft.mjs" <<JS
if (process.env.$VAR) globalThis.$VAR = process.env.$VAR;
const { run } = await import("./main.js");
process.exitCode = await run(process.argv.slice(2));
JS
