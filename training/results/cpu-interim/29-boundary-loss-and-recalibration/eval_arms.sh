#!/bin/bash
# eval_arms.sh <Expert> <Modality> <dataset>: the shipped expert and each arm's DAFT expert on the modality's validation
# cases, all with the expert's offset and edge refinement removed (merged experts come without them), daft eval.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
E=$1; M=$2; O=out/s22/arms/$E
mkdir -p $O/in $O/gt
for f in data/cases/val/imgs/2DBox_${M}_*.npz; do ln -sf $PWD/$f $O/in/; done
for f in data/cases/val/gts/2DBox_${M}_*.npz; do ln -sf $PWD/$f $O/gt/; done
# shipped, raw
rm -rf $O/zoo-shipped && mkdir -p $O/zoo-shipped
for f in models/*; do [ "$(basename $f)" = manifest.json ] || ln -s $PWD/$f $O/zoo-shipped/; done
/usr/bin/python3 - "$E" "$O/zoo-shipped/manifest.json" <<'PY'
import json,sys
m=json.load(open('models/manifest.json'))
for e in m['experts']:
    if e['name']==sys.argv[1]: e.pop('maskLogitOffset',None); e.pop('edgeRefinement',None)
json.dump(m,open(sys.argv[2],'w'),indent=2)
PY
DS=$3
for arm in ctrl bnd; do
  rm -rf $O/zoo-$arm
  bw=0; [ $arm = bnd ] && bw=1
  # the DAFT stage itself, whatever the run's selection chose
  PYTHONPATH=training /usr/bin/python3 -m daft_train export --out training/runs/cpu22-$E-$arm --config cpu --device cpu \
    --datasets ../shared/datasets/$DS --init-checkpoint training/runs/imported22/$E.pt --cache-dir training/runs/cache-$arm \
    --set train.daft.epochs=10 --set train.daft.ema_decay=0.99 --set train.num_threads=1 \
    --set train.boundary_weight=$bw --max-minutes-per-stage 45 --policy daft --models-dir training/runs/cpu22-$E-$arm/models-daft --no-verify > /dev/null
  PYTHONPATH=training /usr/bin/python3 -m daft_train merge-experts --into models --from training/runs/cpu22-$E-$arm/models-daft --experts $E -o $O/zoo-$arm > /dev/null
done
for z in shipped ctrl bnd; do
  rm -rf $O/pred-$z $O/eval-$z
  node packages/node/bin/daft.js segment $O/in -o $O/pred-$z --models $O/zoo-$z --quiet
  node packages/node/bin/daft.js eval --pred $O/pred-$z --gt $O/gt -o $O/eval-$z --quiet --pictures 0 | grep "mean over"
done
