#!/usr/bin/env bash
# Test-time mirroring off / x / xy with the shipped models, on one split of the imported datasets: how the
# default (the manifest's testTimeMirroring) was chosen (validation) and what it costs and gains (test).
# Usage: bash scripts/evaluate_mirroring.sh [val|test] [MODELS_DIR]   → out/mirroring-<split>/results.md
set -euo pipefail
cd "$(dirname "$0")/.."
SPLIT=${1:-val}
MODELS=${2:-models}
DATASETS=${DATASETS:-../shared/datasets}
CASES=data/cases
OUT=out/mirroring-$SPLIT
daft() { node packages/node/bin/daft.js "$@"; }

[ -f "$CASES/cases.csv" ] || daft data import "$DATASETS"/*/ -o "$CASES"
for mode in off x xy; do
  daft segment "$CASES/$SPLIT/imgs" -o "$OUT/mirror-$mode" --quiet --models "$MODELS" --mirror "$mode"
  daft eval --pred "$OUT/mirror-$mode" --gt "$CASES/$SPLIT/gts" -o "$OUT/mirror-$mode/eval" > /dev/null
  echo "mirror-$mode: $OUT/mirror-$mode/eval/summary.md"
done
label=$([ "$SPLIT" = val ] && echo validation || echo "$SPLIT")
SPLIT=$label node scripts/results_table.mjs "$OUT" mirror-off mirror-x mirror-xy > "$OUT/results.md"
cat "$OUT/results.md"
