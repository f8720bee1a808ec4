#!/bin/bash
# Experiment: segment every 2D box (not only small ones) on a zoomed tile around it, with context factor C,
# on the validation split's 2D cases except Microscopy; baseline = the shipped manifest.
# Usage: bash training/results/cpu-interim/22-zoom-every-box/zoom_variants.sh   (writes out/zoomexp/)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
DAFT="node packages/node/bin/daft.js"  # session 18 ran a bundle of commit 3fce918: the same engine
mkdir -p out/zoomexp/in out/zoomexp/gts
for f in data/cases/val/imgs/2DBox_*; do case $f in *Microscopy*) ;; *) ln -sf "$PWD/$f" out/zoomexp/in/; ln -sf "$PWD/data/cases/val/gts/$(basename $f)" out/zoomexp/gts/ ;; esac; done
for variant in base c2 c3 c4; do
  M=out/zoomexp/models-$variant; rm -rf $M; mkdir -p $M
  for f in models/*; do ln -s "$PWD/$f" $M/; done
  rm $M/manifest.json
  case $variant in
    base) cp models/manifest.json $M/ ;;
    c*) C=${variant#c}; /usr/bin/python3 - "$C" "$M/manifest.json" <<'PY'
import json,sys
c=float(sys.argv[1]); m=json.load(open('models/manifest.json'))
for e in m['experts']:
    if e.get('smallObjectZoom'): e['smallObjectZoom']={'belowFramePx':256,'contextFactor':c,'minTilePx':32}
json.dump(m,open(sys.argv[2],'w'),indent=2)
PY
    ;;
  esac
  $DAFT segment out/zoomexp/in -o out/zoomexp/$variant/pred --models $M --quiet
  $DAFT eval --pred out/zoomexp/$variant/pred --gt out/zoomexp/gts -o out/zoomexp/$variant/eval --quiet --pictures 0
done
