#!/usr/bin/env bash
# Session 12: training targets cut at area coverage >= 0.5 ("half") instead of > 0 ("any"), otherwise run 11's
# recipe exactly (17-intensity-augmentation/README.md: 10 more DAFT epochs from the imported run-10 experts, intensity
# augmentation 0.5, weight average 0.99, one torch thread, the same validation split). The "any" arms are run 11's
# own runs (cpu11-*-aug*). Run from the repository root after run 11's imports; two at a time; logs in /work/logs.
set -u
mkdir -p /work/logs
job() { # name init dataset seed
  PYTHONPATH=training /usr/bin/python3 -m daft_train run --out training/runs/$1 --config cpu --device cpu \
    --datasets ../shared/datasets/$3 --init-checkpoint training/runs/imported11/$2.pt --cache-dir training/runs/cpu/cache \
    --seed $4 --split-seed 0 --set train.daft.epochs=10 --set train.daft.ema_decay=0.99 --set train.num_threads=1 \
    --set train.intensity_probability=0.5 --set train.target_rule=half --max-minutes-per-stage 45 --no-verify \
    > /work/logs/$1.log 2>&1
  echo "$1 rc=$?" >> /work/logs/half.out
}
export -f job
printf '%s\n' "${@:-cpu12-ct-half CT covid-ct-infection 0
cpu12-fundus-half general drishti-gs-optic 0}" | xargs -P 2 -L 1 bash -c 'job "$0" "$1" "$2" "$3"'
echo done >> /work/logs/half.out
