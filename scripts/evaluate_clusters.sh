#!/usr/bin/env bash
# Cluster-based DAFT vs modality DAFT vs one general model, on the test split of ../shared/datasets (or $DATASETS),
# segmented and scored exactly as scripts/evaluate_test_split.sh does:
#   general            the general expert alone (RUN's general stage)
#   daft               every modality's DAFT expert (RUN), routed by file name
#   clusters           every cluster's DAFT expert (CLUSTER_RUN: DAFT from RUN's general checkpoint, subsets = the
#                      clusters of `daft subsets propose`), routed by the nearest-centroid rule (manifest routing.subsets)
#   selected           RUN's validation-selected modality experts (what shipped from RUN)
#   clusters-selected  the validation-selected stage per cluster (general where DAFT did not help)
# Usage: bash scripts/evaluate_clusters.sh [RUN_DIR] [CLUSTER_RUN_DIR]
# The cluster run itself (see training/results/cpu-clusters/results.md):
#   node packages/node/bin/daft.js subsets propose --cases data/cases -o training/results/cpu-clusters/subsets.json
#   PYTHONPATH=training python3 -m daft_train daft --out training/runs/cpu-clusters --base-run training/runs/cpu \
#       --subsets training/results/cpu-clusters/subsets.json --device cpu --max-minutes-per-stage 8
#   PYTHONPATH=training python3 -m daft_train select --out training/runs/cpu-clusters --device cpu
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-training/runs/cpu}
CLUSTER_RUN=${2:-training/runs/cpu-clusters}
DATASETS=${DATASETS:-../shared/datasets}
CASES=data/cases
OUT=out/test-split-clusters
daft() { node packages/node/bin/daft.js "$@"; }
export_models() { # run dir, policy
  [ -f "$1/models-$2/manifest.json" ] ||
    PYTHONPATH=training /usr/bin/python3 -m daft_train export --out "$1" --policy "$2" --models-dir "$1/models-$2" --no-verify
}

[ -f "$CASES/cases.csv" ] || daft data import "$DATASETS"/*/ -o "$CASES"
export_models "$RUN" general
export_models "$RUN" daft
export_models "$RUN" selected
export_models "$CLUSTER_RUN" daft
export_models "$CLUSTER_RUN" selected

run() { # name, segment options...
  local name=$1; shift
  daft segment "$CASES/test/imgs" -o "$OUT/$name" --quiet "$@"
  daft eval --pred "$OUT/$name" --gt "$CASES/test/gts" -o "$OUT/$name/eval" > /dev/null
  echo "$name: $OUT/$name/eval/summary.md"
}
run general --models "$RUN/models-general"
run daft --models "$RUN/models-daft"
run clusters --models "$CLUSTER_RUN/models-daft"
run selected --models "$RUN/models-selected"
run clusters-selected --models "$CLUSTER_RUN/models-selected"
node scripts/results_table.mjs "$OUT" general daft clusters selected clusters-selected > "$OUT/results.md"
/usr/bin/python3 scripts/paired_bootstrap.py "$OUT" clusters:daft clusters:general daft:general \
  clusters-selected:selected >> "$OUT/results.md"
node scripts/routing_table.mjs "$OUT/clusters/timings.csv" >> "$OUT/results.md"
cat "$OUT/results.md"
