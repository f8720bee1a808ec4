#!/bin/bash
# eval_arms.sh <Expert> <case prefix> <dataset>... : record 29's eval_arms.sh for any case prefix and several training
# datasets (MR: 3DBox_MR, BraTS FLAIR + hippocampus). The shipped expert and each arm's DAFT stage (whatever its run
# selected) on the validation cases whose names start with <case prefix>, all without offset or edge refinement
# (merged experts come without them), scored by daft eval; then the paired bootstrap of the three.
# Other rounds set (defaults: record 30's): ARMS="<arm>:<boundary weight> ..." (run dirs training/runs/$RUNS-<E>-<arm>,
# caches training/runs/cache-<arm>), RUNS=cpu22, IMPORTED=imported22 (training/runs/$IMPORTED/<E>.pt), OUT_ROOT,
# PAIRS (the bootstrap's A:B pairs, A − B) — record 31's eval_round.sh is one such call.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
E=$1; P=$2; shift 2
ARMS=${ARMS:-"ctrl:0 bnd:1"}; RUNS=${RUNS:-cpu22}; IMPORTED=${IMPORTED:-imported22}
PAIRS=${PAIRS:-"ctrl:bnd shipped:ctrl shipped:bnd"}
DS=(); for d in "$@"; do DS+=(../shared/datasets/$d); done
O=${OUT_ROOT:-out/s22/arms}/$E
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
zoos=(shipped)
for a in $ARMS; do
  arm=${a%%:*}; bw=${a##*:}; zoos+=($arm)
  rm -rf $O/zoo-$arm
  PYTHONPATH=training /usr/bin/python3 -m daft_train export --out training/runs/$RUNS-$E-$arm --config cpu --device cpu \
    --datasets "${DS[@]}" --init-checkpoint training/runs/$IMPORTED/$E.pt --cache-dir training/runs/cache-$arm \
    --set train.daft.epochs=10 --set train.daft.ema_decay=0.99 --set train.num_threads=1 \
    --set train.boundary_weight=$bw --max-minutes-per-stage 45 --policy daft --models-dir training/runs/$RUNS-$E-$arm/models-daft --no-verify > /dev/null
  PYTHONPATH=training /usr/bin/python3 -m daft_train merge-experts --into models --from training/runs/$RUNS-$E-$arm/models-daft --experts $E -o $O/zoo-$arm > /dev/null
done
rm -rf $O/bs
for z in "${zoos[@]}"; do
  rm -rf $O/pred-$z $O/eval-$z
  node packages/node/bin/daft.js segment $O/in -o $O/pred-$z --models $O/zoo-$z --quiet
  node packages/node/bin/daft.js eval --pred $O/pred-$z --gt $O/gt -o $O/eval-$z --quiet --pictures 0 | grep "mean over"
  mkdir -p $O/bs/$z && ln -s $PWD/$O/eval-$z $O/bs/$z/eval
done
python3 scripts/paired_bootstrap.py $O/bs $PAIRS
