"""Stage 3 (DAFT): one copy of the general model per subset, fine-tuned on that subset (prompt encoder frozen).
A subset whose training data are all 3D uses every slice with objects in each epoch."""

from __future__ import annotations

from .export.onnx_import import FOLDED
from .pipeline import STAGE_DAFT, STAGE_GENERAL, Pipeline
from .trainer import StageResult, read_done


def train_daft(p: Pipeline) -> dict[str, StageResult | None]:
    results: dict[str, StageResult | None] = {}
    general = read_done(p.stage_dir(STAGE_GENERAL))
    if general is not None and general.norm_stats == FOLDED and not p.cfg.train.daft.freeze_norm_stats:
        raise ValueError(f"{p.stage_dir(STAGE_GENERAL)}: the general stage was imported from ONNX, whose BatchNorm "
                         f"statistics are folded into the convolutions; train DAFT from it with "
                         f"train.daft.freeze_norm_stats=true")
    for subset in p.subsets():
        name = f"{STAGE_DAFT}/{subset.name}"
        out = p.stage_dir(STAGE_DAFT, subset.name)
        if read_done(out) is not None:
            results[subset.name] = p.skip_finished(STAGE_DAFT, subset.name)
            continue
        train_store, val_store = p.store("train", subset), p.store("val", subset)
        if train_store.num_samples == 0 or val_store.num_samples == 0:
            p.log(f"[{name}] skipped: {train_store.num_samples} training / {val_store.num_samples} validation samples")
            results[subset.name] = None
            continue
        model = p.load_stage_model(STAGE_GENERAL)
        p.freeze(model, prompt=True)
        all_slices = train_store.only_3d
        if all_slices:
            p.log(f"[{name}] 3D-only subset: every slice with objects is used each epoch")
        results[subset.name] = p.train(name, out, model, p.cfg.train.daft, subset=subset, all_slices=all_slices)
    return results
