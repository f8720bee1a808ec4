#!/usr/bin/env bash
# General vs DAFT over several training seeds, on the test split of ../shared/datasets (or $DATASETS):
# every RUN_DIR (one training seed each, same validation split) is exported as its general expert alone, as every
# modality's DAFT expert and as the experts its validation selected, segments the test split with `daft segment`
# and is scored with `daft eval`; then scripts/seeds_table.mjs prints mean ± sd over the seeds and the paired
# difference per modality: DAFT − general (results.md) and selected − general (results-selected.md).
# Usage: bash scripts/evaluate_seeds.sh RUN_DIR RUN_DIR [RUN_DIR...]   → out/test-split-seeds/results*.md
# MODALITIES="CT Mammography ..." scores only those modalities' test cases (e.g. the subsets a study retrained; the
# others' experts are unchanged and scored elsewhere); OUT=<dir> writes elsewhere than out/test-split-seeds.
# Each configuration is segmented once: an export whose experts (ONNX sha256s and mirroring) equal one already
# scored in this invocation takes that score (e.g. the shared general model of DAFT seeds from one --base-run),
# and a score newer than its export is kept (an interrupted evaluation resumes; delete it to re-run).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bash scripts/evaluate_seeds.sh RUN_DIR RUN_DIR [RUN_DIR...]" >&2; exit 2; }
DATASETS=${DATASETS:-../shared/datasets}
CASES=data/cases
OUT=${OUT:-out/test-split-seeds}
inputs=("$CASES/test/imgs")
only=()
if [ -n "${MODALITIES:-}" ]; then
  inputs=()
  for m in $MODALITIES; do
    found=("$CASES"/test/imgs/[23]DBox_"$m"_*.npz)
    [ -e "${found[0]}" ] || { echo "MODALITIES: no test case of modality $m in $CASES/test/imgs" >&2; exit 2; }
    inputs+=("${found[@]}")
  done
  only=(--only-predicted)
fi
daft() { node packages/node/bin/daft.js "$@"; }

[ -f "$CASES/cases.csv" ] || daft data import "$DATASETS"/*/ -o "$CASES"
# What makes two exports the same configuration: each expert's name, ONNX hashes and mirroring.
experts_key() { node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(JSON.stringify(m.experts.map((e) => [e.name, e.modalities, e.encoder.sha256, e.decoder.sha256, e.testTimeMirroring])))' "$1"; }
declare -A scored=()
names=()
for run in "$@"; do
  name=$(basename "$run")
  names+=("$name")
  for policy in general daft selected; do
    models="$run/models-$policy"
    [ -f "$models/manifest.json" ] ||
      PYTHONPATH=training /usr/bin/python3 -m daft_train export --out "$run" --policy "$policy" \
        --models-dir "$models" --no-verify
    result="$OUT/$name/$policy"
    key=$(experts_key "$models/manifest.json")
    if [ -n "${scored[$key]:-}" ] && [ "${scored[$key]}" != "$result" ]; then
      rm -rf "$result" && mkdir -p "$OUT/$name" && cp -r "${scored[$key]}" "$result"
      echo "$name/$policy: the same experts as ${scored[$key]#"$OUT/"}, scored once"
    elif [ "$result/eval/summary.json" -nt "$models/manifest.json" ]; then
      echo "$name/$policy: kept (newer than its export): $result/eval/summary.md"
    else
      rm -rf "$result"
      daft segment "${inputs[@]}" -o "$result" --quiet --models "$models"
      daft eval --pred "$result" --gt "$CASES/test/gts" -o "$result/eval" "${only[@]}" > /dev/null
      echo "$name/$policy: $result/eval/summary.md"
    fi
    scored[$key]=$result
  done
done
node scripts/seeds_table.mjs "$OUT" general daft "${names[@]}" > "$OUT/results.md"
node scripts/seeds_table.mjs "$OUT" general selected "${names[@]}" > "$OUT/results-selected.md"
cat "$OUT/results.md" "$OUT/results-selected.md"
