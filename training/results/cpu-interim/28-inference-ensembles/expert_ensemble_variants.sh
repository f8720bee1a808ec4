#!/bin/bash
# Each DAFT expert's logits averaged with the general expert's (weight w on the expert), measured on the 2D
# validation cases (session 22; not adopted). From the repository root of a checkout at git f9cfdaf:
#   git apply training/results/cpu-interim/28-inference-ensembles/expert-ensemble.patch
#   bash training/results/cpu-interim/28-inference-ensembles/expert_ensemble_variants.sh 0.5
#   git apply -R training/results/cpu-interim/28-inference-ensembles/expert-ensemble.patch
# The expert's own mask logit offset and edge refinement apply to the average; Fundus (served by the general
# model's files) averages the general model with itself. Each weight: out/s22/ens/<w>/{pred,eval}.
set -euo pipefail
P=out/s22/proto-ens
bash "$(dirname "$0")/build_prototype.sh" "$P" DAFT_ENSEMBLE
for w in "$@"; do
  o=out/s22/ens/$w
  mkdir -p "$o"
  DAFT_ENSEMBLE=$w node "$P/daft.mjs" segment data/cases/val2d/imgs -o "$o/pred" --quiet
  node packages/node/bin/daft.js eval --pred "$o/pred" --gt data/cases/val2d/gts -o "$o/eval" --quiet --pictures 0
done
