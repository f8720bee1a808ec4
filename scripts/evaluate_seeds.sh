#!/usr/bin/env bash
# General vs DAFT over several training seeds, on the test split of ../shared/datasets (or $DATASETS):
# every RUN_DIR (one training seed each, same validation split) is exported as its general expert alone, as every
# modality's DAFT expert and as the experts its validation selected, segments the test split with `daft segment`
# and is scored with `daft eval`; then scripts/seeds_table.mjs prints mean ± sd over the seeds and the paired
# difference per modality: DAFT − general (results.md) and selected − general (results-selected.md).
# Usage: bash scripts/evaluate_seeds.sh RUN_DIR RUN_DIR [RUN_DIR...]   → out/test-split-seeds/results*.md
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bash scripts/evaluate_seeds.sh RUN_DIR RUN_DIR [RUN_DIR...]" >&2; exit 2; }
DATASETS=${DATASETS:-../shared/datasets}
CASES=data/cases
OUT=out/test-split-seeds
daft() { node packages/node/bin/daft.js "$@"; }

[ -f "$CASES/cases.csv" ] || daft data import "$DATASETS"/*/ -o "$CASES"
names=()
for run in "$@"; do
  name=$(basename "$run")
  names+=("$name")
  for policy in general daft selected; do
    [ -f "$run/models-$policy/manifest.json" ] ||
      PYTHONPATH=training /usr/bin/python3 -m daft_train export --out "$run" --policy "$policy" \
        --models-dir "$run/models-$policy" --no-verify
    daft segment "$CASES/test/imgs" -o "$OUT/$name/$policy" --quiet --models "$run/models-$policy"
    daft eval --pred "$OUT/$name/$policy" --gt "$CASES/test/gts" -o "$OUT/$name/$policy/eval" > /dev/null
    echo "$name/$policy: $OUT/$name/$policy/eval/summary.md"
  done
done
node scripts/seeds_table.mjs "$OUT" general daft "${names[@]}" > "$OUT/results.md"
node scripts/seeds_table.mjs "$OUT" general selected "${names[@]}" > "$OUT/results-selected.md"
cat "$OUT/results.md" "$OUT/results-selected.md"
