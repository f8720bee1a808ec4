#!/bin/bash
# From the repository root: bash training/results/cpu-interim/29-boundary-loss-and-recalibration/train_lanes.sh <ctrl|bnd> <weight>
# lane <name> <boundary_weight>: US then XRay, 10 more DAFT epochs from the shipped expert
cd "$(dirname "$0")/../../../.."
lane=$1; bw=$2
D=../shared/datasets
# PAIRS="Dermoscopy:ph2-dermoscopy" overrides the expert:dataset list (session 22's third pair)
for pair in ${PAIRS:-US:hc18-fetal-head XRay:cxr-lungs}; do
  set -- ${pair%%:*} ${pair##*:}
  PYTHONPATH=training /usr/bin/python3 -m daft_train run --out training/runs/cpu22-$1-$lane --config cpu --device cpu \
    --datasets $D/$2 --init-checkpoint training/runs/imported22/$1.pt --cache-dir training/runs/cache-$lane \
    --set train.daft.epochs=10 --set train.daft.ema_decay=0.99 --set train.num_threads=1 \
    --set train.boundary_weight=$bw --max-minutes-per-stage 45 --no-verify
done
