#!/usr/bin/env bash
# Small-object zoom thresholds with the shipped models, on one split of the imported datasets: every expert's
# smallObjectZoom rewritten to belowFramePx=B, contextFactor=F (a copy of the manifest beside links to the ONNX
# files), then daft segment + daft eval. How the shipped values are chosen (validation) and checked (test).
# Usage: bash scripts/evaluate_zoom.sh [val|test] [MODELS_DIR] [B:F ...]   → out/zoom-<split>/results.md
#   default variants: 32:5 (shipped) 48:3 64:3 96:2.5
set -euo pipefail
cd "$(dirname "$0")/.."
SPLIT=${1:-val}
MODELS=${2:-models}
shift $(( $# < 2 ? $# : 2 ))
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(32:5 48:3 64:3 96:2.5)
DATASETS=${DATASETS:-../shared/datasets}
CASES=data/cases
OUT=out/zoom-$SPLIT
daft() { node packages/node/bin/daft.js "$@"; }

[ -f "$CASES/cases.csv" ] || daft data import "$DATASETS"/*/ -o "$CASES"
names=()
for v in "${VARIANTS[@]}"; do
  below=${v%%:*} factor=${v##*:} name="zoom-${v/:/-f}"
  zoo="$OUT/$name/models"
  rm -rf "$zoo" && mkdir -p "$zoo"
  for entry in "$MODELS"/*; do ln -s "$(realpath "$entry")" "$zoo/"; done
  rm "$zoo/manifest.json"
  node -e '
    const fs = require("fs");
    const [src, dst, below, factor] = process.argv.slice(1);
    const m = JSON.parse(fs.readFileSync(src, "utf8"));
    for (const e of m.experts) if (e.smallObjectZoom) Object.assign(e.smallObjectZoom, { belowFramePx: +below, contextFactor: +factor });
    fs.writeFileSync(dst, JSON.stringify(m, null, 2));
  ' "$MODELS/manifest.json" "$zoo/manifest.json" "$below" "$factor"
  daft segment "$CASES/$SPLIT/imgs" -o "$OUT/$name" --quiet --models "$zoo"
  daft eval --pred "$OUT/$name" --gt "$CASES/$SPLIT/gts" -o "$OUT/$name/eval" > /dev/null
  echo "$name: $OUT/$name/eval/summary.md"
  names+=("$name")
done
label=$([ "$SPLIT" = val ] && echo validation || echo "$SPLIT")
SPLIT=$label node scripts/results_table.mjs "$OUT" "${names[@]}" > "$OUT/results.md"
cat "$OUT/results.md"
