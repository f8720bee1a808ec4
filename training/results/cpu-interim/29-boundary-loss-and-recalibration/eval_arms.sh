#!/bin/bash
# eval_arms.sh <Expert> <Modality> <dataset>: the shipped expert and each arm's DAFT expert on the modality's validation
# cases, all with the expert's offset and edge refinement removed (merged experts come without them), daft eval.
# Since session 23 the steps live in record 30's generalisation (any case prefix, several datasets), which also ends
# with the paired bootstrap of the three; this is the 2D call session 22 made.
exec bash "$(dirname "$0")/../30-boundary-loss-more-modalities/eval_arms.sh" "$1" "2DBox_$2" "$3"
