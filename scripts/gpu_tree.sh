#!/usr/bin/env bash
# What travels to the GPU machine: the tracked + untracked-not-ignored files and the carried pack, at most 64 MiB
# *on disk* (session 16: 62.9 MiB by file sizes were refused; they took 66.6 MiB in 4 KiB blocks). models/ (the
# shipped zoo, ~21 MB) is not needed there, so for the device call it can stay behind:
#   bash scripts/gpu_tree.sh leave-models   # models/ untracked and ignored (files untouched), nothing committed
#   ... daft_train pack (--max-mib auto now measures the tree without models/), the run(...) call ...
#   bash scripts/gpu_tree.sh restore        # models/ tracked again, the ignore line removed
#   bash scripts/gpu_tree.sh status         # which of the two states the checkout is in
set -euo pipefail
cd "$(dirname "$0")/.."
EXCLUDE=$(git rev-parse --git-path info/exclude)
LINE=/models/

left_behind() { grep -qxF "$LINE" "$EXCLUDE" 2>/dev/null; }

case "${1:-}" in
  leave-models)
    if left_behind; then echo "models/ is already left behind"; exit 0; fi
    git diff --quiet -- models && git diff --cached --quiet -- models ||
      { echo "models/ has uncommitted changes: commit them first" >&2; exit 1; }
    git rm -r -q --cached models
    echo "$LINE" >>"$EXCLUDE"
    echo "models/ left behind: untracked and ignored until 'bash scripts/gpu_tree.sh restore' (do not commit now)"
    ;;
  restore)
    left_behind || { echo "models/ is tracked (nothing to restore)"; exit 0; }
    git reset -q -- models
    grep -vxF "$LINE" "$EXCLUDE" >"$EXCLUDE.tmp" || true
    mv "$EXCLUDE.tmp" "$EXCLUDE"
    git diff --quiet -- models || { echo "models/ differs from the last commit after restore" >&2; exit 1; }
    echo "models/ tracked again"
    ;;
  status)
    if left_behind; then echo "left behind (run: bash scripts/gpu_tree.sh restore)"; else echo "tracked"; fi
    ;;
  *)
    echo "usage: bash scripts/gpu_tree.sh leave-models|restore|status" >&2
    exit 2
    ;;
esac
