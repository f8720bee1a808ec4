#!/bin/bash
# eval_round.sh <Expert> <case prefix> <dataset>... : the second round (train_round.sh) evaluated by record 30's
# eval_arms.sh with one arm: the shipped expert and the round's DAFT stage (whatever its run selected), both without
# offset or edge refinement, on the validation cases whose names start with <case prefix>, scored by daft eval;
# then the paired bootstrap (round − shipped).
ARMS="bnd2:1" RUNS=cpu24 IMPORTED=imported24 OUT_ROOT=out/s24/round PAIRS="bnd2:shipped" \
  exec bash "$(dirname "$0")/../30-boundary-loss-more-modalities/eval_arms.sh" "$@"
