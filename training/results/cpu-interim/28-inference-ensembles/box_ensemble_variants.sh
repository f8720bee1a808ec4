#!/bin/bash
# Box-prompt ensembles at inference, measured on the 2D validation cases (session 22; not adopted).
# Usage, from the repository root of a checkout at git f9cfdaf (the prototype is a patch, not in the tree):
#   git apply training/results/cpu-interim/28-inference-ensembles/box-ensemble.patch
#   bash training/results/cpu-interim/28-inference-ensembles/box_ensemble_variants.sh base gs:1 gs:2 shift:1.5
#   git apply -R training/results/cpu-interim/28-inference-ensembles/box-ensemble.patch
# Variant names: base = the shipped engine; gs:d = the box, the box grown by d frame pixels on every side and the
# box shrunk by d (3 decoder runs per pass, logits averaged); shift:d = the box and the box moved by ±d frame
# pixels in x and in y (5 runs). Each variant: out/s22/boxens/<name>/{pred,eval}.
set -euo pipefail
P=out/s22/proto
bash "$(dirname "$0")/build_prototype.sh" "$P" DAFT_BOX_ENSEMBLE
for v in "$@"; do
  o=out/s22/boxens/$v
  mkdir -p "$o"
  if [ "$v" = base ]; then env -u DAFT_BOX_ENSEMBLE node "$P/daft.mjs" segment data/cases/val2d/imgs -o "$o/pred" --quiet
  else DAFT_BOX_ENSEMBLE=$v node "$P/daft.mjs" segment data/cases/val2d/imgs -o "$o/pred" --quiet; fi
  node packages/node/bin/daft.js eval --pred "$o/pred" --gt data/cases/val2d/gts -o "$o/eval" --quiet --pictures 0
done
