#!/usr/bin/env bash
# What travels to the GPU machine: the tracked + untracked-not-ignored files and the carried pack, at most 64 MiB
# *on disk* (session 16: 62.9 MiB by file sizes were refused; they took 66.6 MiB in 4 KiB blocks). Neither models/
# (the shipped zoo, ~21 MB) nor training/results/ (the records, ~14 MiB on disk in 1,000+ small files) is needed
# there, so for the device call they can stay behind:
#   bash scripts/gpu_tree.sh leave-behind   # models/ and training/results/ untracked and ignored (files untouched)
#   ... daft_train pack (--max-mib auto now measures the tree without them), the run(...) call ...
#   bash scripts/gpu_tree.sh restore        # tracked again, the ignore lines removed; nothing was committed between
#   bash scripts/gpu_tree.sh status         # which of the two states the checkout is in
# (leave-models: the older name of leave-behind.)
set -euo pipefail
cd "$(dirname "$0")/.."
EXCLUDE=$(git rev-parse --git-path info/exclude)
FOLDERS=(models training/results)

left_behind() { grep -qxF "/${FOLDERS[0]}/" "$EXCLUDE" 2>/dev/null; }

case "${1:-}" in
  leave-behind | leave-models)
    if left_behind; then echo "${FOLDERS[*]} already left behind"; exit 0; fi
    for f in "${FOLDERS[@]}"; do
      git diff --quiet -- "$f" && git diff --cached --quiet -- "$f" ||
        { echo "$f/ has uncommitted changes: commit them first" >&2; exit 1; }
    done
    for f in "${FOLDERS[@]}"; do
      [ -n "$(git ls-files -- "$f" | head -1)" ] && git rm -r -q --cached -- "$f"
      echo "/$f/" >>"$EXCLUDE"
    done
    echo "${FOLDERS[*]} left behind: untracked and ignored until 'bash scripts/gpu_tree.sh restore' (do not commit now)"
    ;;
  restore)
    left_behind || { echo "${FOLDERS[*]} tracked (nothing to restore)"; exit 0; }
    for f in "${FOLDERS[@]}"; do
      git reset -q -- "$f"
      grep -vxF "/$f/" "$EXCLUDE" >"$EXCLUDE.tmp" || true
      mv "$EXCLUDE.tmp" "$EXCLUDE"
      git diff --quiet -- "$f" || { echo "$f/ differs from the last commit after restore" >&2; exit 1; }
    done
    echo "${FOLDERS[*]} tracked again"
    ;;
  status)
    if left_behind; then echo "left behind (run: bash scripts/gpu_tree.sh restore)"; else echo "tracked"; fi
    ;;
  *)
    echo "usage: bash scripts/gpu_tree.sh leave-behind|restore|status" >&2
    exit 2
    ;;
esac
