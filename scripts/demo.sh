#!/usr/bin/env bash
# The main job: set up, segment the committed example cases with the shipped experts, draw overlays and score them.
#   out/demo/segs/       one .npz per case (key 'segs') + timings.csv + objects.csv (each mask's confidence)
#   out/demo/overlays/   PNG pictures of each case with its masks and boxes
#   out/demo/eval/       DSC/NSD per case and label, summary.md, pictures/ of the worst cases
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT=${1:-out/demo}
node packages/node/bin/daft.js segment examples/cases/imgs -o "$OUT/segs" --overlays "$OUT/overlays" --explain
node packages/node/bin/daft.js eval --pred "$OUT/segs" --gt examples/cases/gts -o "$OUT/eval"
echo "masks: $OUT/segs  overlays: $OUT/overlays  scores: $OUT/eval/summary.md"
