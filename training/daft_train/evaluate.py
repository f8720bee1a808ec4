"""Validation: segmentation loss and DSC of box prompts (no augmentation), embedding MSE for distillation."""

from __future__ import annotations

from collections import defaultdict

import torch

from .data.training_data import SampleStore
from .losses import distillation_loss, per_object_terms
from .runtime import Runtime

EVAL_MAX_OBJECTS = 32


def _batches(entries, batch_images):
    entries = sorted(entries, key=lambda e: len(e.rows))  # similar object counts → little padding
    for i in range(0, len(entries), batch_images):
        yield entries[i : i + batch_images]


@torch.no_grad()
def evaluate_segmentation(model, store: SampleStore, runtime: Runtime, batch_images: int) -> dict:
    """Mean loss (BCE + Dice + IoU MSE) and mean DSC over all validation objects, plus DSC per dataset."""
    was_training = model.training
    model.eval()
    sums = defaultdict(float)
    per_dataset = defaultdict(lambda: [0.0, 0.0])
    plan = runtime.shard(store.eval_plan(EVAL_MAX_OBJECTS))
    for entries in _batches(plan, batch_images):
        batch = store.make_batch(entries, 1, None, augment=False)
        with runtime.autocast():
            embedding = model.encode(batch.images)
            logits, iou = model.decode(embedding, batch.boxes)
        terms = per_object_terms(logits, iou, batch.masks)
        valid = batch.valid.float()
        loss = (terms["bce"] + terms["dice"] + terms["iou_mse"]) * valid
        sums["loss"] += float(loss.sum())
        sums["dsc"] += float((terms["dsc"] * valid).sum())
        sums["objects"] += float(valid.sum())
        dsc_per_image = (terms["dsc"] * valid).sum(dim=1)
        for i, d in enumerate(batch.datasets):
            per_dataset[d][0] += float(dsc_per_image[i])
            per_dataset[d][1] += float(valid[i].sum())
    names = [a.name for a in store.datasets]
    keys = list(range(len(names)))
    flat = [sums["loss"], sums["dsc"], sums["objects"]] + [v for d in keys for v in per_dataset[d]]
    flat = runtime.all_reduce_sum(flat)
    model.train(was_training)
    n = max(flat[2], 1.0)
    result = {"loss": flat[0] / n, "dsc": flat[1] / n, "objects": int(flat[2]), "per_dataset": {}}
    for i, d in enumerate(keys):
        dsc_sum, count = flat[3 + 2 * i], flat[4 + 2 * i]
        if count:
            result["per_dataset"][names[d]] = dsc_sum / count
    return result


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
