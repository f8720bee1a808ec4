#!/usr/bin/env bash
# All tests: set up, then TypeScript (build, format check, vitest: unit + end-to-end on real files) and Python (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx prettier --check .
npx tsc -p tsconfig.tests.json  # strict type-check of the tests too (vitest only strips types)
npx tsc -p packages/web/tsconfig.json --noEmit  # the web app: DOM + WebWorker, no Node types
npx tsc -p packages/web/test/tsconfig.json --noEmit  # its browser end-to-end test (Node side)
npx vitest run
bash training/run_tests.sh
