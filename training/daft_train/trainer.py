"""One training stage: AdamW, ReduceLROnPlateau, early stopping on validation loss, best checkpoint kept,
resumable from the last epoch's checkpoint, progress lines with ETA, metrics JSONL and a loss-curve PNG.

Stage folder:
  last.pt        model + optimizer + scheduler + counters after the last finished epoch (resume point)
  best.pt        {"model": state_dict, "stage", "epoch", "val_loss", "val_dsc", "encoder": "student"|"teacher"}
                 (with ``ema_decay`` > 0 the weight average is what is validated and kept: "ema_decay" is recorded)
  metrics.jsonl  one JSON line per logged step ("type": "step") and per epoch ("type": "epoch")
  loss_curve.png train / validation loss per epoch (every 5 epochs and at the end)
  done.json      written when the stage finished (then the stage is skipped on re-runs)
"""

from __future__ import annotations

import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch

from .config import StageConfig, TrainConfig, validation_zoom
from .data.training_data import SampleStore, stable_seed
from .evaluate import evaluate_distillation, evaluate_segmentation
from .losses import distillation_loss, segmentation_loss
from .runtime import Runtime
from .weight_average import WeightAverage

# Called as hook(stage_name, epoch) after each epoch's checkpoint is written (tests use it to simulate a crash).
AFTER_EPOCH_HOOKS: list[Callable[[str, int], None]] = []


@dataclass
class StageResult:
    name: str
    best_epoch: int
    best_val_loss: float
    best_val_dsc: float | None
    epochs_run: int
    stopped: str
    best_checkpoint: str
    minutes: float
    norm_stats: str | None = None  # "folded": adopted from an ONNX import (BatchNorm folded into convolutions)


def load_checkpoint(path: str, device):
    """Our own checkpoints (trusted; torch >= 2.6 defaults to weights_only=True, which rejects optimizer states
    of some versions)."""
    return torch.load(path, map_location=device, weights_only=False)


def save_atomic(obj, path: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def write_json_atomic(obj, path: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def epoch_steps(plan_length: int, per_step: int, min_steps: int = 0, max_steps: int = 0) -> int:
    """Optimiser steps in one epoch: one pass over the plan (the last batch filled by cycling), raised to
    `min_steps` and capped at `max_steps` where those are set (0 = not set)."""
    steps = max(1, math.ceil(plan_length / per_step))
    if min_steps:
        steps = max(steps, min_steps)
    if max_steps:
        steps = min(steps, max_steps)
    return steps


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def plot_loss_curve(history: list[dict], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [h["train_loss"] for h in history], marker="o", label="train")
    validated = [h for h in history if h.get("val_loss") is not None]
    ax.plot([h["epoch"] for h in validated], [h["val_loss"] for h in validated], marker="o", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.13, top=0.9)
    tmp = f"{path}.{os.getpid()}.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def read_done(out_dir: str) -> StageResult | None:
    path = os.path.join(out_dir, "done.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return StageResult(**json.load(f))


def batch_segmentation_loss(net, batch, train_cfg: TrainConfig | None = None) -> torch.Tensor:
    """BCE + Dice + IoU MSE of ``net``'s masks for a training batch's boxes (+ the boundary-band BCE where
    ``train_cfg.boundary_weight`` asks for it)."""
    logits, iou = net(batch.images, batch.boxes)
    extra = {} if train_cfg is None else {"boundary_weight": train_cfg.boundary_weight,
                                          "boundary_band_px": train_cfg.boundary_band_px}
    loss, _ = segmentation_loss(logits, iou, batch.masks, batch.valid, **extra)
    return loss


def apply_gradients(loss: torch.Tensor, optimizer, trainable: list) -> None:
    """Backward pass, gradient-norm clipping to 1 and one optimizer step (every stage's, and bench-train's)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
    optimizer.step()


def train_stage(
    name: str,
    out_dir: str,
    model,
    stage_cfg: StageConfig,
    train_cfg: TrainConfig,
    runtime: Runtime,
    train_store: SampleStore,
    val_store: SampleStore,
    seed: int,
    max_minutes: float = 0.0,
    teacher=None,
    all_slices: bool = False,
    encoder_kind: str = "student",
    log: Callable[[str], None] = print,
) -> StageResult:
    """Train ``model`` (a DaftSam) in place; on return it holds the best epoch's weights.

    With ``teacher`` given the stage distils: MSE between the student's and the teacher's embeddings, only the
    student's image encoder is trained. Otherwise: BCE + Dice + IoU MSE on box prompts for every parameter
    with requires_grad."""
    done = read_done(out_dir)
    best_path = os.path.join(out_dir, "best.pt")
    if done is not None:
        model.load_state_dict(load_checkpoint(best_path, runtime.device)["model"])
        log(f"[{name}] already finished (best epoch {done.best_epoch}, val loss {done.best_val_loss:.4f}); skipped")
        return done
    if train_store.num_samples == 0:
        raise ValueError(f"[{name}] no training samples (check --datasets and the subset)")
    if val_store.num_samples == 0:
        raise ValueError(f"[{name}] no validation samples: every dataset of this stage needs cases in the val split")
    os.makedirs(out_dir, exist_ok=True)
    distill = teacher is not None
    device = runtime.device
    model.to(device)
    if distill:
        teacher.to(device).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=stage_cfg.lr, weight_decay=stage_cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=stage_cfg.plateau_factor, patience=stage_cfg.plateau_patience
    )
    average = WeightAverage(model, stage_cfg.ema_decay) if stage_cfg.ema_decay > 0 else None
    state = {"epoch": -1, "best_val_loss": math.inf, "best_val_dsc": None, "best_epoch": -1, "bad_epochs": 0, "elapsed": 0.0, "history": []}
    last_path = os.path.join(out_dir, "last.pt")
    if os.path.exists(last_path):
        ckpt = load_checkpoint(last_path, device)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        state = ckpt["state"]
        if average is not None:
            if "weight_average" not in ckpt:
                raise ValueError(f"{last_path}: saved without a weight average but ema_decay is {stage_cfg.ema_decay}; "
                                 f"resume with the run's own config")
            average.load_state_dict(ckpt["weight_average"])
        log(f"[{name}] resuming after epoch {state['epoch'] + 1}/{stage_cfg.epochs} ({format_duration(state['elapsed'])} done)")
    net = runtime.wrap(model.image_encoder if distill else model)
    metrics_path = os.path.join(out_dir, "metrics.jsonl")
    B, K = train_cfg.batch_images, train_cfg.objects_per_image
    budget = max_minutes * 60.0 if max_minutes and max_minutes > 0 else math.inf
    run_started = time.time()
    stopped = "epochs"
    rates: list[float] = []

    def elapsed() -> float:
        return state["elapsed"] + (time.time() - run_started)

    for epoch in range(state["epoch"] + 1, stage_cfg.epochs):
        if state["bad_epochs"] >= stage_cfg.patience:  # resumed after the stopping epoch was saved
            stopped = "early stopping"
            break
        if elapsed() >= budget:
            stopped = "time limit"
            break
        model.train()
        if stage_cfg.freeze_norm_stats:
            freeze_norm_statistics(model)
        rng = np.random.default_rng(stable_seed(seed, name, epoch, "plan"))
        plan = train_store.epoch_plan(rng, K, all_slices)
        per_step = B * runtime.world
        steps = epoch_steps(len(plan), per_step, train_cfg.min_steps_per_epoch, train_cfg.max_steps_per_epoch)
        # every rank gets exactly `steps` full batches (the plan is cycled to fill the last one)
        plan = [plan[i % len(plan)] for i in range(steps * per_step)]
        plan = runtime.shard(plan)
        generator = torch.Generator()  # host-side random decisions (see data/training_data.py)
        generator.manual_seed(stable_seed(seed, name, epoch, "augment", runtime.rank) % (2**63))
        epoch_loss, epoch_count, epoch_started = 0.0, 0, time.time()
        hit_limit = False
        # A step's loss is read (a device sync) only after the next step is queued, or when a line is logged: the
        # host assembles batch t + 1 while the device still runs step t.
        unread: list[tuple[torch.Tensor, int, int]] = []

        def read_losses() -> None:
            nonlocal epoch_loss, epoch_count
            for value, images, at_step in unread:
                loss_value = float(value)
                if not math.isfinite(loss_value):
                    raise FloatingPointError(f"[{name}] loss became {loss_value} at epoch {epoch + 1} step {at_step + 1}")
                epoch_loss += loss_value * images
                epoch_count += images
            unread.clear()

        for step in range(steps):
            entries = plan[step * B : (step + 1) * B]
            t0 = time.time()
            batch = train_store.make_batch(
                entries, K, generator, augment=True, jitter_px=train_cfg.box_jitter_px,
                zoom_probability=0.0 if distill else train_cfg.zoom_probability, zoom_small_side=train_cfg.zoom_small_side,
                zoom_k=(train_cfg.zoom_min_k, train_cfg.zoom_max_k), propagation_probability=train_cfg.propagation_probability,
                intensity_probability=0.0 if distill else train_cfg.intensity_probability,
            )
            with runtime.autocast():
                if distill:
                    with torch.no_grad():
                        target = teacher.encode(batch.images)
                    loss = distillation_loss(net(batch.images), target)
                else:
                    loss = batch_segmentation_loss(net, batch, train_cfg)
            apply_gradients(loss, optimizer, trainable)
            if average is not None:
                average.update()
            logging = runtime.is_main and ((step + 1) % train_cfg.log_every_steps == 0 or step + 1 == steps)
            read_losses()  # the previous step's: done, or nearly, while this one is queued behind it
            unread.append((loss.detach(), len(entries), step))
            if logging:
                read_losses()
            rates.append(time.time() - t0)
            if logging:
                seconds_per_step = float(np.mean(rates[-50:]))
                remaining_steps = (steps - step - 1) + (stage_cfg.epochs - epoch - 1) * steps
                eta = min(remaining_steps * seconds_per_step, max(0.0, budget - elapsed()))
                lr = optimizer.param_groups[0]["lr"]
                log(f"[{name}] epoch {epoch + 1}/{stage_cfg.epochs} step {step + 1}/{steps} loss {epoch_loss / epoch_count:.4f} "
                    f"lr {lr:.1e} {1.0 / seconds_per_step:.2f} it/s eta {format_duration(eta)}")
                with open(metrics_path, "a") as f:
                    f.write(json.dumps({"type": "step", "stage": name, "epoch": epoch + 1, "step": step + 1, "steps": steps,
                                        "loss": epoch_loss / epoch_count, "lr": lr, "time": time.time()}) + "\n")
            if budget < math.inf and runtime.any_true(elapsed() >= budget):
                hit_limit = True
                break
        read_losses()
        sums = runtime.all_reduce_sum([epoch_loss, float(epoch_count)])
        train_loss = sums[0] / max(sums[1], 1.0)
        # every validate_every_epochs-th epoch, and always the one the stage may end with (its last, or the time cap)
        validate = ((epoch + 1) % max(1, train_cfg.validate_every_epochs) == 0 or epoch + 1 == stage_cfg.epochs
                    or hit_limit or runtime.any_true(elapsed() >= budget))
        val = {"loss": None, "dsc": None}
        improved = False
        if validate:
            with average.applied(model) if average is not None else nullcontext():
                if distill:
                    val = evaluate_distillation(model, teacher, val_store, runtime, B)
                    val["dsc"] = None
                else:
                    val = evaluate_segmentation(model, val_store, runtime, B, zoom=validation_zoom(train_cfg))
                improved = val["loss"] < state["best_val_loss"] - 1e-7
                if improved:
                    state.update(best_val_loss=val["loss"], best_val_dsc=val["dsc"], best_epoch=epoch + 1, bad_epochs=0)
                    if runtime.is_main:
                        save_atomic({"model": model.state_dict(), "stage": name, "epoch": epoch + 1, "val_loss": val["loss"],
                                     "val_dsc": val["dsc"], "encoder": encoder_kind, "ema_decay": stage_cfg.ema_decay}, best_path)
                else:
                    state["bad_epochs"] += 1
            scheduler.step(val["loss"])
        record = {"type": "epoch", "stage": name, "epoch": epoch + 1, "train_loss": train_loss, "val_loss": val["loss"],
                  "val_dsc": val["dsc"], "lr": optimizer.param_groups[0]["lr"], "epoch_seconds": time.time() - epoch_started,
                  "improved": improved}
        if "per_dataset" in val:
            record["val_dsc_per_dataset"] = val["per_dataset"]
        state["history"].append(record)
        state["epoch"] = epoch
        state["elapsed"] = elapsed()
        run_started = time.time()
        if runtime.is_main:
            dsc_text = f" val DSC {val['dsc']:.4f}" if val["dsc"] is not None else ""
            val_text = f" val loss {val['loss']:.4f}{dsc_text}" if validate else " (not validated)"
            log(f"[{name}] epoch {epoch + 1}/{stage_cfg.epochs} done: train loss {train_loss:.4f}{val_text}"
                f"{' (best)' if improved else ''} [{format_duration(record['epoch_seconds'])}]")
            with open(metrics_path, "a") as f:
                f.write(json.dumps(record) + "\n")
            save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                         "state": state, **({"weight_average": average.state_dict()} if average is not None else {})},
                        last_path)
            if (epoch + 1) % 5 == 0:
                plot_loss_curve(state["history"], os.path.join(out_dir, "loss_curve.png"), name)
        runtime.barrier()
        for hook in AFTER_EPOCH_HOOKS:
            hook(name, epoch + 1)
        if hit_limit:
            stopped = "time limit"
            break
        if state["bad_epochs"] >= stage_cfg.patience:
            stopped = "early stopping"
            break
    if state["best_epoch"] < 0:
        raise RuntimeError(f"[{name}] no epoch finished (time limit too small?)")
    runtime.barrier()
    model.load_state_dict(load_checkpoint(best_path, device)["model"])
    result = StageResult(name, state["best_epoch"], state["best_val_loss"], state["best_val_dsc"], state["epoch"] + 1, stopped,
                         best_path, elapsed() / 60.0)
    if runtime.is_main:
        plot_loss_curve(state["history"], os.path.join(out_dir, "loss_curve.png"), name)
        write_json_atomic(asdict(result), os.path.join(out_dir, "done.json"))
        log(f"[{name}] finished ({stopped}): best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}"
            + (f", val DSC {result.best_val_dsc:.4f}" if result.best_val_dsc is not None else "")
            + f", {format_duration(result.minutes * 60)}")
    runtime.barrier()  # other ranks read done.json next
    return result


def freeze_norm_statistics(model: torch.nn.Module) -> None:
    """BatchNorm layers to eval mode: they normalise with, and no longer update, their running statistics, while
    their affine parameters keep training (call after ``model.train()``)."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()
