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
                          include: Callable[[str, str, str], bool] | None = None,
                          zoom: tuple[float, float] | None = None) -> dict:
    """Loss (BCE + Dice + IoU MSE) and DSC of the validation objects (of the samples whose (dataset, modality,
    case) pass ``include``), averaged per dataset and then over datasets; DSC per dataset; raw sums per
    (dataset, modality, case) group so that scores of subsets — by modality, dataset or case — can be computed
    from one pass (see :func:`group_score`).

    ``zoom`` = (small side at 256, context factor): objects smaller than that are scored on zoom tiles, as the
    engine segments them (:meth:`SampleStore.zoom_tiles`), instead of on the whole image where they are a few
    pixels wide; 3D slices are prompted as the engine's walk prompts them (``make_batch`` without augment)."""
    was_training = model.training
    model.eval()
    groups: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # loss, dsc, objects
    plan = store.eval_plan(1 << 30)  # one entry per image: encoded once, its objects decoded in chunks
    keys = {}
    for e in plan:
        keys[(e.dataset, e.sample)] = store.sample_key(e.dataset, e.sample)
    if include is not None:
        plan = [e for e in plan if include(*keys[(e.dataset, e.sample)])]
    all_groups = sorted({keys[(e.dataset, e.sample)] for e in plan})
    tiles, zoomed = store.zoom_tiles(*zoom) if zoom else ([], set())
    if include is not None:
        tiles = [t for t in tiles if include(*keys[(t.dataset, t.sample)])]

    def score(entries, batch, skip=None):
        with runtime.autocast():
            embedding = model.encode(batch.images)
        for start in range(0, batch.boxes.shape[1], EVAL_MAX_OBJECTS):
            chunk = slice(start, start + EVAL_MAX_OBJECTS)
            valid = batch.valid[:, chunk].float()
            if skip is not None:
                valid = valid * skip[:, chunk]
            rows = valid.sum(dim=1) > 0  # images that still have objects in this chunk
            if not bool(rows.any()):
                continue
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

    for entries in _batches(runtime.shard(plan), batch_images):
        batch = store.make_batch(entries, 1, None, augment=False)
        skip = None
        if zoomed:  # objects scored on their tiles below
            skip = torch.ones_like(batch.valid, dtype=torch.float32)
            for b, e in enumerate(entries):
                for k, r in enumerate(e.rows):
                    if (e.dataset, r) in zoomed:
                        skip[b, k] = 0.0
        score(entries, batch, skip)
    for chunk_tiles in _batches(runtime.shard(tiles), batch_images):
        score(chunk_tiles, store.make_tile_batch(chunk_tiles))
    flat = runtime.all_reduce_sum([v for key in all_groups for v in groups[key]])
    totals = {key: flat[3 * i : 3 * i + 3] for i, key in enumerate(all_groups)}
    model.train(was_training)
    per_dataset: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for (dataset, _, _), t in totals.items():
        for i in range(3):
            per_dataset[dataset][i] += t[i]
    used = {d: v for d, v in per_dataset.items() if v[2]}
    n = sum(v[2] for v in used.values())
    return {
        # macro averages: mean over datasets of the per-dataset mean over objects, so that a dataset with
        # hundreds of nuclei per image does not outweigh the others
        "loss": sum(v[0] / v[2] for v in used.values()) / max(len(used), 1),
        "dsc": sum(v[1] / v[2] for v in used.values()) / max(len(used), 1),
        "objects": int(n),
        "per_dataset": {d: v[1] / v[2] for d, v in used.items()},
        "groups": {f"{d}\t{m}\t{c}": t for (d, m, c), t in totals.items()},
    }


def group_score(result: dict, include: Callable[[str, str, str], bool]) -> tuple[float | None, int]:
    """(DSC, objects) over the (dataset, modality, case) groups of an evaluation that pass ``include``: the mean
    over datasets of each dataset's mean over its included objects (as the "dsc" of an evaluation)."""
    per_dataset: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for key, (_, d, c) in result["groups"].items():
        dataset, modality, case = key.split("\t")
        if include(dataset, modality, case):
            per_dataset[dataset][0] += d
            per_dataset[dataset][1] += c
    used = [v for v in per_dataset.values() if v[1]]
    if not used:
        return None, 0
    return sum(v[0] / v[1] for v in used) / len(used), int(sum(v[1] for v in used))


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
