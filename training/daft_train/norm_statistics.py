"""Diagnosis: how much of each DAFT expert's validation DSC rides on the BatchNorm running statistics its stage
re-estimated? Every DAFT expert is scored on its subset's selection validation images as trained, and again with
the general model's running statistics put in place of its own (weights unchanged). Writes norm_statistics.md.

(Run 7: Microscopy's expert scores 0.861 with its own statistics and 0.883 with the general model's — the one
subset where the re-estimated statistics hurt, which is why DAFT lost to the general model there; CT's expert
needs its own, 0.662 vs 0.468. README, run 8.)"""

from __future__ import annotations

import os

from .config import validation_zoom
from .evaluate import evaluate_segmentation
from .pipeline import STAGE_DAFT, STAGE_GENERAL, Pipeline
from .trainer import read_done

NORM_STATISTICS = ("running_mean", "running_var")


def with_statistics_of(model, source):
    """``model`` with every BatchNorm running statistic replaced by ``source``'s (in place; returns it)."""
    state, donor = model.state_dict(), source.state_dict()
    for key in state:
        if key.endswith(NORM_STATISTICS):
            state[key] = donor[key].clone()
    model.load_state_dict(state)
    return model


def norm_statistics_report(p: Pipeline) -> str:
    general = p.load_stage_model(STAGE_GENERAL).to(p.runtime.device)
    zoom = validation_zoom(p.cfg.train)
    lines = [
        "# DAFT experts with their own and with the general model's BatchNorm statistics",
        "",
        f"Validation DSC (≤ {p.cfg.train.select_val_images_per_dataset} images per dataset, as selection scores it).",
        "",
        "| subset | validation objects | own statistics | general model's statistics | difference |",
        "|---|---:|---:|---:|---:|",
    ]
    for subset in p.subsets():
        if read_done(p.stage_dir(STAGE_DAFT, subset.name)) is None:
            continue
        store = p.store("val", subset, p.cfg.train.select_val_images_per_dataset)
        if store.num_objects == 0:
            continue
        own = p.load_stage_model(STAGE_DAFT, subset.name).to(p.runtime.device)
        scores = [evaluate_segmentation(m, store, p.runtime, p.cfg.train.batch_images, zoom=zoom)["dsc"]
                  for m in (own, with_statistics_of(p.load_stage_model(STAGE_DAFT, subset.name), general).to(p.runtime.device))]
        p.log(f"[norm-statistics] {subset.name}: own {scores[0]:.4f}, general's {scores[1]:.4f}")
        lines.append(f"| {subset.name} | {store.num_objects} | {scores[0]:.4f} | {scores[1]:.4f} | {scores[1] - scores[0]:+.4f} |")
    text = "\n".join(lines) + "\n"
    path = os.path.join(p.run_dir, "norm_statistics.md")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return text
