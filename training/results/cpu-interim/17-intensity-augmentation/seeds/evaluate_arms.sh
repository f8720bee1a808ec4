#!/usr/bin/env bash
# Every CT / Mammography arm's DAFT expert (selected or not) exported, merged into the run-10 zoo (models/ at git
# 38ecbdd) and scored on that modality's test cases; one line per run: name | expert | validation DSC (the run's
# selection) | test DSC / NSD. Usage, from the repository root: bash .../evaluate_arms.sh cpu11-ct-ctrl cpu11-ct-aug …
# (arms.txt: the twelve runs)
set -eu
rm -rf /tmp/zoo10 && mkdir -p /tmp/zoo10 && git archive 38ecbdd models | tar -x -C /tmp/zoo10
for run in "$@"; do
  case $run in *-ct-*) ex=CT ;; *) ex=Mammography ;; esac
  d=training/runs/$run
  [ -f $d/models-daft/manifest.json ] || PYTHONPATH=training /usr/bin/python3 -m daft_train export --out $d --policy daft \
    --models-dir $d/models-daft --no-verify > /dev/null 2>&1
  z=/tmp/zoo-$run; rm -rf $z
  PYTHONPATH=training /usr/bin/python3 -m daft_train merge-experts --into /tmp/zoo10/models --from $d/models-daft \
    --experts $ex -o $z > /dev/null 2>&1
  o=out/s11-seeds/$run; rm -rf $o
  node packages/node/bin/daft.js segment $(ls data/cases/test/imgs/*_${ex}_*) -o $o --quiet --models $z
  node packages/node/bin/daft.js eval --pred $o --gt data/cases/test/gts --only-predicted -o $o/eval > /dev/null 2>&1
  val=$(grep -E "^\| daft " $d/selection.md | awk -F'|' '{print $4}' | tr -d ' *')
  test=$(grep -m1 -E "^\| $ex " $o/eval/summary.md | awk -F'|' '{printf "%s / %s", $4, $5}' | tr -s ' ')
  echo "$run | $ex | $val | $test"
done
