"""Where a training step's time goes (``python -m daft_train bench-train``).

The GPU session of 2026-11-28 trained at 6 (teacher) to 9 (student) steps of 32 images per second on an H200 —
about 280 images/s, far below what the card can do. This benchmark splits a general-stage step into its parts,
each timed on its own with the device synchronised after every repetition (medians):

- ``assembly``: ``SampleStore.make_batch`` with the training augmentations (host-side draws and boxes, then the
  device work for the whole batch; bench/batch_assembly_ops.py counts its device operators);
- ``student_step`` / ``teacher_step``: forward + backward + AdamW step of the model on one fixed batch;
- ``trainer_step``: assembly + student step + ``float(loss)`` in one, as ``trainer.train_stage`` runs them;
- ``queued_step``: the same steps without reading the loss each step (the device synchronised once at the end),
  i.e. what the host could overlap with the device if the trainer did not wait for every loss;
- with ``profile_steps``: torch.profiler's operator table of that many trainer steps (by device time on CUDA);
- ``validation``: one ``evaluate_segmentation`` pass over the validation store (seconds).

It reads an unpacked GPU pack (``--cache`` with ``pack.json``) or a run's cache with ``--datasets``, and writes
nothing but ``--json`` (and a scratch run folder in a temporary directory)."""

from __future__ import annotations

import json
import math
import os
import statistics
import tempfile
import time
from typing import Callable

import numpy as np
import torch

from .config import validation_zoom
from .data.training_data import stable_seed
from .evaluate import evaluate_segmentation
from .trainer import apply_gradients, batch_segmentation_loss

PARTS = ("assembly", "student_step", "teacher_step", "trainer_step", "queued_step")


def _median_ms(times: list[float]) -> float:
    return round(statistics.median(times) * 1000.0, 2)


def run_bench_train(cache: str, datasets: list[str] | None, config: str, overrides: list[str], device: str, steps: int,
                    warmup: int, with_teacher: bool = True, with_validation: bool = True, profile_steps: int = 0,
                    json_path: str | None = None,
                    log: Callable[[str], None] = print) -> dict:
    from .pipeline import Pipeline

    if datasets is None:
        index = os.path.join(cache, "pack.json")
        if not os.path.isfile(index):
            raise ValueError(f"{cache}: no pack.json here; give --datasets for a run's cache")
        with open(index) as f:
            datasets = json.load(f)["datasets_order"]
    with tempfile.TemporaryDirectory(prefix="daft-bench-train-") as scratch:
        p = Pipeline(os.path.join(scratch, "run"), datasets=datasets, config=config, overrides=overrides, seed=0,
                     device=device, cache_dir=cache, log=log)
        rt = p.runtime
        cuda = rt.device.type == "cuda"

        def sync() -> None:
            if cuda:
                torch.cuda.synchronize()

        cfg = p.cfg.train
        B, K = cfg.batch_images, cfg.objects_per_image
        train_store, val_store = p.store("train"), p.store("val")
        rng = np.random.default_rng(stable_seed(0, "bench-train", "plan"))
        plan = train_store.epoch_plan(rng, K, False)
        need = (2 * warmup + 3 * steps + profile_steps + 1) * B
        plan = [plan[i % len(plan)] for i in range(need)]
        batches = iter(range(0, need, B))
        generator = torch.Generator()
        generator.manual_seed(0)

        def next_batch():
            i = next(batches)
            return train_store.make_batch(
                plan[i : i + B], K, generator, augment=True, jitter_px=cfg.box_jitter_px,
                zoom_probability=cfg.zoom_probability, zoom_small_side=cfg.zoom_small_side,
                zoom_k=(cfg.zoom_min_k, cfg.zoom_max_k), propagation_probability=cfg.propagation_probability,
                intensity_probability=cfg.intensity_probability)

        def make_step(model):
            trainable = [q for q in model.parameters() if q.requires_grad]
            optimizer = torch.optim.AdamW(trainable, lr=1e-4)

            def step(batch) -> torch.Tensor:
                with rt.autocast():
                    loss = batch_segmentation_loss(model, batch)
                apply_gradients(loss, optimizer, trainable)
                return loss.detach()

            return step

        def timed(fn, repeats: int) -> list[float]:
            out = []
            for _ in range(repeats):
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                out.append(time.perf_counter() - t0)
            return out

        report: dict = {"config": p.cfg.name, "overrides": overrides, "device": str(rt.device), "torch": torch.__version__,
                        "batch_images": B, "objects_per_image": K, "steps": steps, "warmup": warmup,
                        "train_samples": train_store.num_samples, "val_samples": val_store.num_samples}
        if cuda:
            report["gpu"] = torch.cuda.get_device_name(0)
        log(f"[bench-train] {p.cfg.name} on {rt.device}: batch {B} images x {K} boxes, {steps} timed repetitions "
            f"after {warmup} warm-up ones; {train_store.num_samples} training samples")

        fixed = next_batch()
        times: dict[str, list[float]] = {}
        timed(next_batch, warmup)
        times["assembly"] = timed(next_batch, steps)
        student = p.build("student").to(rt.device)
        p.freeze(student, prompt=True)
        student.train()
        student_step = make_step(student)
        timed(lambda: student_step(fixed), warmup)
        times["student_step"] = timed(lambda: student_step(fixed), steps)
        if with_teacher:
            teacher = p.build("teacher").to(rt.device)
            teacher.train()
            teacher_step = make_step(teacher)
            timed(lambda: teacher_step(fixed), warmup)
            times["teacher_step"] = timed(lambda: teacher_step(fixed), steps)
            del teacher, teacher_step
        batches = iter(range(0, need, B))  # the plan again for the whole-step timings
        times["trainer_step"] = timed(lambda: float(student_step(next_batch())), steps)
        sync()
        t0 = time.perf_counter()
        losses = [student_step(next_batch()) for _ in range(steps)]
        sync()
        queued = (time.perf_counter() - t0) / steps
        if not all(math.isfinite(float(v)) for v in losses):
            raise FloatingPointError("bench-train: a loss was not finite")
        report["ms"] = {name: _median_ms(t) for name, t in times.items()}
        report["ms"]["queued_step"] = round(queued * 1000.0, 2)
        report["images_per_s"] = {name: round(B / (ms / 1000.0), 1) for name, ms in report["ms"].items() if ms > 0}
        if profile_steps > 0:
            from torch.profiler import ProfilerActivity, profile

            activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
            with profile(activities=activities) as prof:
                for _ in range(profile_steps):
                    float(student_step(next_batch()))
                sync()
            key = "self_cuda_time_total" if cuda else "self_cpu_time_total"
            table = prof.key_averages().table(sort_by=key, row_limit=25)
            report["profile_top_ops"] = table
            log(f"[bench-train] profile of {profile_steps} trainer steps, by {key}:\n{table}")
        if with_validation:
            sync()
            t0 = time.perf_counter()
            val = evaluate_segmentation(student, val_store, rt, B, zoom=validation_zoom(cfg))
            sync()
            report["validation_s"] = round(time.perf_counter() - t0, 2)
            report["validation_dsc_untrained"] = val["dsc"]
        for name in PARTS:
            if name in report["ms"]:
                log(f"[bench-train] {name:>13}: {report['ms'][name]:9.2f} ms per batch  "
                    f"({report['images_per_s'][name]:8.1f} images/s)")
        if with_validation:
            log(f"[bench-train] validation pass over {val_store.num_samples} samples: {report['validation_s']:.2f} s")
    if json_path:
        tmp = json_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
        os.replace(tmp, json_path)
    return report
