#!/bin/bash
# From the repository root: bash training/results/cpu-interim/31-boundary-loss-second-round/train_round.sh <Expert> <dataset>
# 10 more DAFT epochs with the boundary-band loss (weight 1) from the shipped (run 17) expert, imported first with
#   PYTHONPATH=training /usr/bin/python3 -m daft_train import-onnx --models models --expert <Expert> -o training/runs/imported24/<Expert>.pt
# Record 30's recipe exactly (train_lanes.sh of record 29 with weight 1), one torch thread, run dir cpu24-<Expert>-bnd2.
cd "$(dirname "$0")/../../../.."
E=$1; DS=$2
PYTHONPATH=training /usr/bin/python3 -m daft_train run --out training/runs/cpu24-$E-bnd2 --config cpu --device cpu \
  --datasets ../shared/datasets/$DS --init-checkpoint training/runs/imported24/$E.pt --cache-dir training/runs/cache-bnd2 \
  --set train.daft.epochs=10 --set train.daft.ema_decay=0.99 --set train.num_threads=1 \
  --set train.boundary_weight=1 --max-minutes-per-stage 45 --no-verify
