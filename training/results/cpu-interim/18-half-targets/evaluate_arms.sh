#!/usr/bin/env bash
# Each run's DAFT expert exported, merged into the run-11 zoo (models/ at git d8ae17d) and scored with `daft eval` at
# original resolution on its modality's validation and test cases. One line per run:
# run | expert | validation DSC at 256 (the run's selection) | val DSC / NSD | test DSC / NSD
# "shipped-<Expert>" scores the run-11 zoo itself. Usage, from the repository root: bash .../evaluate_arms.sh cpu11-ct-aug cpu12-ct-half …  (arms.txt: the output)
set -eu
base=/tmp/zoo11-base
[ -d $base/models ] || { mkdir -p $base && git archive d8ae17d models | tar -x -C $base; }
for run in "$@"; do
  if [[ $run == shipped-* ]]; then
    ex=${run#shipped-}; z=$base/models; line="$run | $ex | -"
  else
  case $run in *-ct-*) ex=CT ;; *-fundus-*) ex=Fundus ;; *-mammo-*) ex=Mammography ;; *-micro-*) ex=Microscopy ;;
    *) echo "$run: which expert?" >&2; exit 2 ;; esac
  d=training/runs/$run
  [ -f $d/models-daft/manifest.json ] || PYTHONPATH=training /usr/bin/python3 -m daft_train export --out $d --policy daft \
    --models-dir $d/models-daft --no-verify > /dev/null 2>&1
  z=/tmp/zoo-$run; rm -rf $z
  PYTHONPATH=training /usr/bin/python3 -m daft_train merge-experts --into $base/models --from $d/models-daft \
    --experts $ex -o $z > /dev/null 2>&1
  line="$run | $ex | $(grep -E "^\| daft " $d/selection.md | awk -F'|' '{print $4}' | tr -d ' *')"
  fi
  for split in val test; do
    o=out/s12-half/$run/$split; rm -rf $o
    node packages/node/bin/daft.js segment $(ls data/cases/$split/imgs/*_${ex}_*) -o $o --quiet --models $z
    node packages/node/bin/daft.js eval --pred $o --gt data/cases/$split/gts --only-predicted -o $o/eval > /dev/null 2>&1
    line="$line | $(grep -m1 -E "^\| $ex " $o/eval/summary.md | awk -F'|' '{printf "%s / %s", $4, $5}' | tr -s ' ')"
  done
  echo "$line"
done
