#!/usr/bin/env bash
# Session 11: with / without intensity augmentation for CT and Mammography, seeds 1 and 2 (seed 0: the main runs),
# from the same imported run-10 experts and on the same validation split (--split-seed 0). Run from the repository
# root after the imports of ../README.md; logs in /work/logs (copied here as */train.log). Two at a time, 04:22–04:53.
set -u
mkdir -p /work/logs
job() { # name expert dataset seed prob
  PYTHONPATH=training /usr/bin/python3 -m daft_train run --out training/runs/$1 --config cpu --device cpu \
    --datasets ../shared/datasets/$3 --init-checkpoint training/runs/imported11/$2.pt --cache-dir training/runs/cpu/cache \
    --seed $4 --split-seed 0 --set train.daft.epochs=10 --set train.daft.ema_decay=0.99 --set train.num_threads=1 \
    --set train.intensity_probability=$5 --max-minutes-per-stage 45 --no-verify > /work/logs/$1.log 2>&1
  echo "$1 rc=$?" >> /work/logs/seeds.out
}
export -f job
printf '%s\n' "cpu11-ct-ctrl-s1 CT covid-ct-infection 1 0" "cpu11-ct-aug-s1 CT covid-ct-infection 1 0.5" \
  "cpu11-ct-ctrl-s2 CT covid-ct-infection 2 0" "cpu11-ct-aug-s2 CT covid-ct-infection 2 0.5" \
  "cpu11-mammo-ctrl-s1 Mammography ddsm-tissue 1 0" "cpu11-mammo-aug-s1 Mammography ddsm-tissue 1 0.5" \
  "cpu11-mammo-ctrl-s2 Mammography ddsm-tissue 2 0" "cpu11-mammo-aug-s2 Mammography ddsm-tissue 2 0.5" \
  | xargs -P 2 -L 1 bash -c 'job "$0" "$1" "$2" "$3" "$4"'
echo done >> /work/logs/seeds.out
