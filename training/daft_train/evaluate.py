"""Validation: segmentation loss and DSC of box prompts (no augmentation), embedding MSE for distillation."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

import torch

from .data.training_data import SampleStore
from .losses import distillation_loss, per_object_terms
from .runtime import Runtime

EVAL_MAX_OBJECTS = 32  # boxes decoded per call during validation


def _batches(entries, batch_images):
    entries = sorted(entries, key=lambda e: len(e.rows))  # similar object counts → little padding
    for i in range(0, len(entries), batch_images):
        yield entries[i : i + batch_images]


@torch.no_grad()
def evaluate_segmentation(model, store: SampleStore, runtime: Runtime, batch_images: int,
                          include: Callable[[str, str], bool] | None = None) -> dict:
    """Mean loss (BCE + Dice + IoU MSE) and mean DSC over the validation objects (of the samples whose
    (dataset, modality) pass ``include``), DSC per dataset, and raw sums per (dataset, modality) group so that
    scores of subsets can be computed from one pass (see :func:`group_score`)."""
    was_training = model.training
    model.eval()
    groups: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # loss, dsc, objects
    plan = store.eval_plan(1 << 30)  # one entry per image: encoded once, its objects decoded in chunks
    keys = {}
    for e in plan:
        keys[(e.dataset, e.sample)] = (store.datasets[e.dataset].name, store.sample_modality(e.dataset, e.sample))
    if include is not None:
        plan = [e for e in plan if include(*keys[(e.dataset, e.sample)])]
    all_groups = sorted({keys[(e.dataset, e.sample)] for e in plan})
    for entries in _batches(runtime.shard(plan), batch_images):
        batch = store.make_batch(entries, 1, None, augment=False)
        with runtime.autocast():
            embedding = model.encode(batch.images)
        for start in range(0, batch.boxes.shape[1], EVAL_MAX_OBJECTS):
            chunk = slice(start, start + EVAL_MAX_OBJECTS)
            valid = batch.valid[:, chunk].float()
            rows = valid.sum(dim=1) > 0  # images that still have objects in this chunk
            with runtime.autocast():
                logits, iou = model.decode(embedding[rows], batch.boxes[rows, chunk])
            terms = per_object_terms(logits, iou, batch.masks[rows, chunk])
            valid = valid[rows]
            loss = ((terms["bce"] + terms["dice"] + terms["iou_mse"]) * valid).sum(dim=1)
            dsc = (terms["dsc"] * valid).sum(dim=1)
            count = valid.sum(dim=1)
            for i, e in enumerate(e for e, keep in zip(entries, rows.tolist()) if keep):
                g = groups[keys[(e.dataset, e.sample)]]
                g[0] += float(loss[i])
                g[1] += float(dsc[i])
                g[2] += float(count[i])
    flat = runtime.all_reduce_sum([v for key in all_groups for v in groups[key]])
    totals = {key: flat[3 * i : 3 * i + 3] for i, key in enumerate(all_groups)}
    model.train(was_training)
    loss_sum = sum(t[0] for t in totals.values())
    dsc_sum = sum(t[1] for t in totals.values())
    n = sum(t[2] for t in totals.values())
    per_dataset: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (dataset, _), t in totals.items():
        per_dataset[dataset][0] += t[1]
        per_dataset[dataset][1] += t[2]
    return {
        "loss": loss_sum / max(n, 1.0),
        "dsc": dsc_sum / max(n, 1.0),
        "objects": int(n),
        "per_dataset": {d: v[0] / v[1] for d, v in per_dataset.items() if v[1]},
        "groups": {f"{d}\t{m}": t for (d, m), t in totals.items()},
    }


def group_score(result: dict, include: Callable[[str, str], bool]) -> tuple[float | None, int]:
    """(mean DSC, objects) over the (dataset, modality) groups of an evaluation that pass ``include``."""
    dsc, n = 0.0, 0.0
    for key, (_, d, c) in result["groups"].items():
        dataset, modality = key.split("\t")
        if include(dataset, modality):
            dsc += d
            n += c
    return (dsc / n if n else None), int(n)


@torch.no_grad()
def evaluate_distillation(student, teacher, store: SampleStore, runtime: Runtime, batch_images: int) -> dict:
    was_training = student.training
    student.eval()
    total, count = 0.0, 0.0
    plan = runtime.shard(store.image_plan())
    for entries in _batches(plan, batch_images):
        batch = store.make_batch(entries, 1, None, augment=False)
        with runtime.autocast():
            s = student.encode(batch.images)
            t = teacher.encode(batch.images)
        total += float(distillation_loss(s, t)) * len(entries)
        count += len(entries)
    total, count = runtime.all_reduce_sum([total, count])
    student.train(was_training)
    return {"loss": total / max(count, 1.0), "images": int(count)}
