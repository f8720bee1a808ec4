"""Stage 2: general fine-tuning of the distilled student on all data (prompt encoder frozen)."""

from __future__ import annotations

from .export.onnx_import import FOLDED
from .pipeline import STAGE_DISTILL, STAGE_GENERAL, Pipeline
from .trainer import StageResult, read_done


def finetune_general(p: Pipeline) -> StageResult:
    if read_done(p.stage_dir(STAGE_GENERAL)) is not None:
        return p.skip_finished(STAGE_GENERAL)
    distilled = read_done(p.stage_dir(STAGE_DISTILL))
    if distilled is not None and distilled.norm_stats == FOLDED and not p.cfg.train.finetune.freeze_norm_stats:
        raise ValueError(f"{p.stage_dir(STAGE_DISTILL)}: the distill stage was imported from ONNX, whose BatchNorm "
                         f"statistics are folded into the convolutions; fine-tune it with train.finetune.freeze_norm_stats=true")
    model = p.load_stage_model(STAGE_DISTILL)
    p.freeze(model, prompt=True)
    return p.train(STAGE_GENERAL, p.stage_dir(STAGE_GENERAL), model, p.cfg.train.finetune)
