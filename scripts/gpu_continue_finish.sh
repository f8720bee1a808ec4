#!/usr/bin/env bash
# After a GPU_TASK=continue call (training/GPU.md, "Session 17"), here, in one go:
#   bash scripts/gpu_continue_finish.sh FILES_AT
# 1. `daft_train.continuation finish`: restore → $RUNS (continuation.md), export the continuations that validated
#    better than their start, merge them into a copy of models/ → $ZOO (nothing else happens if none did);
# 2. the mask logit offset, then the edge refinement, of every merged modality expert, chosen on the validation
#    split (calibrate_expert_settings.mjs --write into $ZOO; the general expert keeps neither, being the fallback);
# 3. the test split with $ZOO (evaluate_test_split.sh) → $OUT/results.md, to set beside the shipped zoo's table.
# Environment (defaults): RUNS=training/runs/gpu-cont, ZOO=training/runs/zoo-gpu, OUT=out/test-split-gpu,
#   START=gpu-continue (the prepare folder the call started from), CACHE=training/runs/cpu/cache.
set -euo pipefail
FROM=${1:?usage: bash scripts/gpu_continue_finish.sh FILES_AT (where the files of the device call came back)}
cd "$(dirname "$0")/.."
RUNS=${RUNS:-training/runs/gpu-cont}
ZOO=${ZOO:-training/runs/zoo-gpu}
OUT=${OUT:-out/test-split-gpu}
START=${START:-gpu-continue}
CACHE=${CACHE:-training/runs/cpu/cache}

PYTHONPATH=training /usr/bin/python3 -m daft_train.continuation finish --from "$FROM" --start "$START" \
  --runs "$RUNS" --cache "$CACHE" --into models -o "$ZOO"
merged=$(/usr/bin/python3 -c 'import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
print(",".join(r["expert"] for r in rows if r["merged"] and r["expert"] != "general"))' "$RUNS/continuation.json")
if ! /usr/bin/python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["zoo"] else 1)' "$RUNS/continuation.json"; then
  echo "nothing merged: models/ stays as it is"
  exit 0
fi
if [ -n "$merged" ]; then
  node scripts/calibrate_expert_settings.mjs --setting offset --models "$ZOO" --experts "$merged" \
    --out "$OUT/calibration" --write
  node scripts/calibrate_expert_settings.mjs --setting edges --models "$ZOO" --experts "$merged" \
    --out "$OUT/calibration-edges" --write
fi
MODELS="$ZOO" OUT="$OUT" bash scripts/evaluate_test_split.sh -
echo "compare $OUT/results.md with training/results/cpu-interim/25-edge-refinement/results.md (the shipped zoo)"
