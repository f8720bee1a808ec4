#!/usr/bin/env bash
# Every number of the README's results table, on the test split of ../shared/datasets (or $DATASETS):
#   (a) the box itself as the mask, (b) the general expert alone, (c) every modality's DAFT expert,
#   (d) the experts the validation selection chose (= the shipped models/), plus (d) routed by the learned selector
#   alone (file names ignored), (d) without small-object zoom and (d) without test-time mirroring (one pass).
# Usage: bash scripts/evaluate_test_split.sh [RUN_DIR]   (RUN_DIR: the training run the shipped models came from;
#   "-" when that run folder is not on this machine: then no general / daft columns)
# MODELS=DIR scores another zoo than models/ as "selected"; OUT=DIR writes elsewhere than out/test-split.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-training/runs/cpu}
DATASETS=${DATASETS:-../shared/datasets}
CASES=data/cases
OUT=${OUT:-out/test-split}
MODELS=${MODELS:-models}
daft() { node packages/node/bin/daft.js "$@"; }

[ -f "$CASES/cases.csv" ] || daft data import "$DATASETS"/*/ -o "$CASES"
columns=(box)
if [ "$RUN" != - ]; then
  for policy in general daft; do
    [ -f "$RUN/models-$policy/manifest.json" ] ||
      PYTHONPATH=training /usr/bin/python3 -m daft_train export --out "$RUN" --policy "$policy" --models-dir "$RUN/models-$policy" --no-verify
  done
  columns+=(general daft)
fi
columns+=(selected selected-selector-only selected-no-zoom selected-no-mirroring)

run() { # name, segment options...
  local name=$1; shift
  daft segment "$CASES/test/imgs" -o "$OUT/$name" --quiet "$@"
  daft eval --pred "$OUT/$name" --gt "$CASES/test/gts" -o "$OUT/$name/eval" > /dev/null
  echo "$name: $OUT/$name/eval/summary.md"
}
run box --baseline box --models "$MODELS"
if [ "$RUN" != - ]; then
  run general --models "$RUN/models-general"
  run daft --models "$RUN/models-daft"
fi
run selected --models "$MODELS"
run selected-selector-only --models "$MODELS" --ignore-names
run selected-no-zoom --models "$MODELS" --no-zoom
run selected-no-mirroring --models "$MODELS" --mirror off
node scripts/results_table.mjs "$OUT" "${columns[@]}" > "$OUT/results.md"
cat "$OUT/results.md"
