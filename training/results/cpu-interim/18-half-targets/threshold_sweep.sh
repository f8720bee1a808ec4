#!/usr/bin/env bash
# Diagnostic, not a product option: would a per-expert mask threshold other than the engine's logit > 0 help?
# Copies the CLI bundle (npm run build), patches LogitUpsampler.paint's two "> 0" comparisons to "> $DAFT_THR",
# and scores the shipped zoo (models/) on each named modality's validation cases at original resolution.
# Usage, from the repository root: bash .../threshold_sweep.sh CT Fundus Mammography Microscopy Dermoscopy
set -eu
b=packages/node/dist/bundle-thr
rm -rf $b && cp -r packages/node/dist/bundle $b
for chunk in $(grep -l "logits\[row + x\] > 0" $b/chunks/*.js); do  # a stale older chunk may hold a copy too
  [ "$(grep -c 'if (v > 0) {' "$chunk")" = 1 ] || { echo "$chunk: bundle changed, patch by hand" >&2; exit 1; }
  sed -i 's/logits\[row + x\] > 0/logits[row + x] > __THR/; s/if (v > 0) {/if (v > __THR) {/' "$chunk"
  sed -i '1i const __THR = +process.env.DAFT_THR || 0;' "$chunk"
done
echo 'const { run } = await import("./main.js"); process.exitCode = await run(process.argv.slice(2));' > $b/cli.mjs
echo "| modality | threshold | val DSC | val NSD |"
echo "|---|---:|---:|---:|"
for ex in "$@"; do
  for t in -2 -1 -0.5 0 0.5 1; do
    o=out/s12-threshold/$ex/$t; rm -rf $o
    DAFT_THR=$t node $b/cli.mjs segment $(ls data/cases/val/imgs/*_${ex}_*) -o $o --quiet --models models
    node packages/node/bin/daft.js eval --pred $o --gt data/cases/val/gts --only-predicted -o $o/eval > /dev/null 2>&1
    echo "| $ex | $t | $(grep -m1 -E "^\| $ex " $o/eval/summary.md | awk -F'|' '{printf "%s | %s", $4, $5}' | tr -s ' ')|"
  done
done
rm -rf $b
