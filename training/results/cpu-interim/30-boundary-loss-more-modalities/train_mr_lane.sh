#!/bin/bash
# From the repository root: bash training/results/cpu-interim/30-boundary-loss-more-modalities/train_mr_lane.sh <ctrl|bnd> <weight>
# MR, as its shipped expert was trained (both MR datasets: BraTS FLAIR and the hippocampus), 10 more DAFT epochs from
# the shipped expert with train.boundary_weight = <weight>; the other modalities' lanes are record 29's train_lanes.sh
# with PAIRS (this folder's README).
cd "$(dirname "$0")/../../../.."
lane=$1; bw=$2
D=../shared/datasets
PYTHONPATH=training /usr/bin/python3 -m daft_train run --out training/runs/cpu22-MR-$lane --config cpu --device cpu \
  --datasets $D/brats2015-flair $D/msd-hippocampus --init-checkpoint training/runs/imported22/MR.pt \
  --cache-dir training/runs/cache-$lane \
  --set train.daft.epochs=10 --set train.daft.ema_decay=0.99 --set train.num_threads=1 \
  --set train.boundary_weight=$bw --max-minutes-per-stage 45 --no-verify
