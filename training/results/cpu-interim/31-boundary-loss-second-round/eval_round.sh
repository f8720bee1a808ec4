#!/bin/bash
# eval_round.sh <Expert> <case prefix> <dataset>... : record 30's eval_arms.sh for one arm, the second round
# (train_round.sh): the shipped expert and the round's DAFT stage (whatever its run selected), both without offset
# or edge refinement (merged experts come without them), on the validation cases whose names start with
# <case prefix>, scored by daft eval; then the paired bootstrap (round − shipped).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
E=$1; P=$2; shift 2
DS=(); for d in "$@"; do DS+=(../shared/datasets/$d); done
O=out/s24/round/$E
mkdir -p $O/in $O/gt
for f in data/cases/val/imgs/${P}_*.npz; do ln -sf $PWD/$f $O/in/; done
for f in data/cases/val/gts/${P}_*.npz; do ln -sf $PWD/$f $O/gt/; done
rm -rf $O/zoo-shipped && mkdir -p $O/zoo-shipped
for f in models/*; do [ "$(basename $f)" = manifest.json ] || ln -s $PWD/$f $O/zoo-shipped/; done
/usr/bin/python3 - "$E" "$O/zoo-shipped/manifest.json" <<'PY'
import json,sys
m=json.load(open('models/manifest.json'))
for e in m['experts']:
    if e['name']==sys.argv[1]: e.pop('maskLogitOffset',None); e.pop('edgeRefinement',None)
json.dump(m,open(sys.argv[2],'w'),indent=2)
PY
rm -rf $O/zoo-bnd2
PYTHONPATH=training /usr/bin/python3 -m daft_train export --out training/runs/cpu24-$E-bnd2 --config cpu --device cpu \
  --datasets "${DS[@]}" --init-checkpoint training/runs/imported24/$E.pt --cache-dir training/runs/cache-bnd2 \
  --set train.daft.epochs=10 --set train.daft.ema_decay=0.99 --set train.num_threads=1 \
  --set train.boundary_weight=1 --max-minutes-per-stage 45 --policy daft --models-dir training/runs/cpu24-$E-bnd2/models-daft --no-verify > /dev/null
PYTHONPATH=training /usr/bin/python3 -m daft_train merge-experts --into models --from training/runs/cpu24-$E-bnd2/models-daft --experts $E -o $O/zoo-bnd2 > /dev/null
rm -rf $O/bs
for z in shipped bnd2; do
  rm -rf $O/pred-$z $O/eval-$z
  node packages/node/bin/daft.js segment $O/in -o $O/pred-$z --models $O/zoo-$z --quiet
  node packages/node/bin/daft.js eval --pred $O/pred-$z --gt $O/gt -o $O/eval-$z --quiet --pictures 0 | grep "mean over"
  mkdir -p $O/bs/$z && ln -s $PWD/$O/eval-$z $O/bs/$z/eval
done
python3 scripts/paired_bootstrap.py $O/bs bnd2:shipped
