#!/usr/bin/env bash
# The one command of a GPU session (training/GPU.md): on the device machine, with carry ["gpu-pack"],
#   bash scripts/gpu_run.sh "$OUT"
# unpack gpu-pack/ → seed 0: teacher → distill → general → DAFT → select; seeds 1, 2: general → DAFT → select from
# seed 0's distilled student on the same validation split → results into $OUT (results.tar.gz, checkpoints.tar.part-NN,
# gpu_run.log), all inside GPU_MINUTES of wall time. Then, here: python3 -m daft_train.gpu_session restore (GPU.md).
#
# Environment (defaults): GPU_MINUTES=9 (the whole command, unpacking and collecting included; the device tool stops a
#   command at 10 min), GPU_CONFIG=gpu, GPU_DEVICE=cuda, GPU_SEEDS=3, GPU_PACK=gpu-pack, GPU_WORK=/tmp/daft-gpu-work (scratch
#   folder), GPU_PYTHON=python3, GPU_SELECT_SECONDS=30, GPU_SET="KEY=VALUE ..." (config overrides; for GPU_CONFIG=gpu
#   the default is the compact student below, so the experts fit git and the checkpoints of 3 seeds fit $OUT;
#   GPU_SET=none keeps the gpu preset's 6.6 M-parameter student), GPU_EXTRA="KEY=VALUE ..." (added to GPU_SET's),
#   GPU_TASK=train (bench-train: unpack, then time batch
#   assembly, model steps and validation with `daft_train bench-train` into $OUT/bench_train.json; GPU_BENCH_STEPS=30;
#   continue: unpack, then train every shipped expert further from GPU_START=gpu-continue (carry it too; made by
#   `daft_train.continuation prepare`) with `daft_train.continuation train`, GPU_CONTINUE_SET's overrides added to the
#   compact student's, and collect; then here: `daft_train.continuation finish` (training/GPU.md)).
# CPU rehearsal on the real pack: GPU_CONFIG=tiny GPU_DEVICE=cpu GPU_MINUTES=6 GPU_PYTHON=/usr/bin/python3 \
#   bash scripts/gpu_run.sh /tmp/gpu-out
set -uo pipefail
OUT=${1:?usage: bash scripts/gpu_run.sh OUT_DIR}
cd "$(dirname "$0")/.."
START=$(date +%s)
MINUTES=${GPU_MINUTES:-9}
CONFIG=${GPU_CONFIG:-gpu}
DEVICE=${GPU_DEVICE:-cuda}
SEEDS=${GPU_SEEDS:-3}
PACK=${GPU_PACK:-gpu-pack}
WORK=${GPU_WORK:-/tmp/daft-gpu-work}
PY=${GPU_PYTHON:-python3}
SELECT_SECONDS=${GPU_SELECT_SECONDS:-30}  # time kept per selection until the first one is measured
# 0.96 M-parameter student (encoder 0.72 M, the cpu preset's) distilled from the gpu preset's teacher with a
# 64-channel embedding, trained with the gpu preset's schedule (batch 32 x 8 boxes, 60/40/30/20 epochs, bf16).
COMPACT="model.student.widths=[8,16,32,64,128] model.student.depths=[1,1,1,2,2] model.student.neck_width=64
model.student.embed_dim=64 model.teacher.embed_dim=64 model.decoder.dim=64 model.decoder.mlp_dim=256 model.decoder.iou_hidden=64"
# continuation (GPU_TASK=continue): from a trained expert, the lr of the CPU chain's continuations (runs 10-11) with
# its weight average; epochs only bound the time cap, early stopping (patience 7) and the cap end each expert
CONTINUE="train.daft.epochs=500 train.finetune.epochs=500 train.daft.lr=1e-4 train.finetune.lr=1e-4
train.daft.ema_decay=0.99 train.finetune.ema_decay=0.99"
if [ -z "${GPU_SET+set}" ]; then SET=$([ "$CONFIG" = gpu ] && echo "$COMPACT" || true); else SET=$GPU_SET; fi
[ "$SET" = none ] && SET=""
[ -n "${GPU_EXTRA:-}" ] && SET="$SET $GPU_EXTRA"  # added to GPU_SET's (e.g. GPU_EXTRA="train.validate_every_epochs=3")
export PYTHONUNBUFFERED=1 PYTHONPATH=training OMP_WAIT_POLICY=PASSIVE
mkdir -p "$OUT"

phase() { echo "$(date +%H:%M:%S) [gpu_run] $1 (at $(( $(date +%s) - START )) s)"; }

main() {
  case "${GPU_TASK:-train}" in train | continue | bench-train) ;; *) echo "GPU_TASK=$GPU_TASK: train, continue or bench-train"; return 2 ;; esac
  phase "start: config $CONFIG, device $DEVICE, seeds $SEEDS, budget $MINUTES min, pack $PACK"
  [ -n "$SET" ] && echo "overrides: $SET"
  (nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi")
  "$PY" -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  [ -f "$PACK/pack.json" ] || { echo "$PACK/pack.json: no pack here (run 'daft_train pack' and carry it)"; return 1; }
  rm -rf "$WORK"
  phase "unpack"
  "$PY" -m daft_train unpack --pack "$PACK" --cache "$WORK/cache" --workers 8 || return 1
  local overrides=()
  for kv in $SET; do overrides+=(--set "$kv"); done
  if [ "${GPU_TASK:-train}" = bench-train ]; then  # where a training step's time goes, instead of training
    phase "bench-train"
    "$PY" -m daft_train bench-train --cache "$WORK/cache" --config "$CONFIG" --device "$DEVICE" "${overrides[@]}" \
      --steps "${GPU_BENCH_STEPS:-30}" --profile-steps 3 --json "$OUT/bench_train.json"
    local code=$?
    # the same student step with 4x the images: does the device have room the host does not feed?
    "$PY" -m daft_train bench-train --cache "$WORK/cache" --config "$CONFIG" --device "$DEVICE" "${overrides[@]}" \
      --set train.batch_images=128 --steps 10 --no-teacher --no-validation --json "$OUT/bench_train_b128.json" || code=$?
    phase "done (bench-train exit code $code)"
    return $code
  fi
  local deadline=$(( START + MINUTES * 60 - 45 ))  # 45 s for collecting and the log
  # train: seeds from scratch (gpu_session); continue: the shipped experts trained further, each selected against
  # its start (continuation); both leave run folders that gpu_session collect packs into $OUT
  local module=daft_train.gpu_session task_args=(--seeds "$SEEDS" --select-seconds "$SELECT_SECONDS")
  if [ "${GPU_TASK:-train}" = continue ]; then
    local start_dir=${GPU_START:-gpu-continue}
    [ -f "$start_dir/continue.json" ] || { echo "$start_dir/continue.json: no starting checkpoints (run 'daft_train.continuation prepare' and carry them)"; return 1; }
    module=daft_train.continuation task_args=(--start "$start_dir")
    for kv in ${GPU_CONTINUE_SET-$CONTINUE}; do overrides+=(--set "$kv"); done
  fi
  phase "${GPU_TASK:-train} until $(date -d "@$deadline" +%H:%M:%S)"
  local limit=$(( deadline + 30 - $(date +%s) ))
  timeout -k 10 -s INT $(( limit > 1 ? limit : 1 )) \
    "$PY" -m "$module" train --cache "$WORK/cache" --runs "$WORK/runs" --deadline "$deadline" \
      --config "$CONFIG" --device "$DEVICE" "${task_args[@]}" "${overrides[@]}"
  local code=$?
  phase "collect (${GPU_TASK:-train} exit code $code)"
  "$PY" -m daft_train.gpu_session collect --runs "$WORK/runs" --out "$OUT" --pack-index "$WORK/cache/pack.json"
  phase "done"
  ls -l "$OUT"
  return $code
}

main 2>&1 | tee "$OUT/gpu_run.log"
