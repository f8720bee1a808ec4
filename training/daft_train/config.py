"""Model and training configurations: ``tiny`` (tests), ``cpu`` (interim model, ~30 min on 2 CPU cores) and
``gpu`` (the real run). Every field can be overridden from the command line (``--set train.lr=1e-4``)."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field, fields, is_dataclass


@dataclass
class EncoderConfig:
    """EfficientViT-style encoder: stem (stride 2) + 4 stages (strides 4, 8, 16, 32); stages 3-4 use linear
    attention blocks. The neck fuses stages 2-4 at stride 8, adds stage 1 at stride 4 and outputs
    [embed_dim, 64, 64] for a 256 input."""

    widths: list[int] = field(default_factory=lambda: [16, 32, 64, 128, 256])
    depths: list[int] = field(default_factory=lambda: [1, 2, 2, 3, 3])
    head_dim: int = 16
    expand: float = 4.0
    neck_width: int = 128
    neck_depth: int = 1
    embed_dim: int = 128


@dataclass
class DecoderConfig:
    """SAM-like decoder: a two-way transformer over the embedding pooled by ``token_stride`` (tokens on a
    (64 / token_stride)^2 grid), a shared high-resolution path from the full embedding at 128x128 and a cheap
    per-box head; logits are upsampled to 256 inside the module."""

    dim: int = 128
    depth: int = 2
    heads: int = 4
    mlp_dim: int = 512
    attention_downsample: int = 2
    token_stride: int = 2
    upscale_dim: int = 16  # channels of the shared 128x128 map
    low_dim: int = 8  # channels of the per-box map on the embedding grid
    iou_hidden: int = 128


@dataclass
class ModelConfig:
    student: EncoderConfig = field(default_factory=EncoderConfig)
    teacher: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    input_size: int = 256


@dataclass
class StageConfig:
    epochs: int = 30
    lr: float = 5e-5
    weight_decay: float = 0.01
    patience: int = 7  # early stopping on validation loss
    plateau_patience: int = 3  # ReduceLROnPlateau
    plateau_factor: float = 0.5
    # > 0: validate, keep and ship an exponential moving average of the weights (weight_average.py)
    ema_decay: float = 0.0
    # True: BatchNorm layers keep the running statistics the stage started from (eval mode; their scale and shift
    # still train). Fine-tuning on one modality with 4-image batches otherwise re-estimates them from batches
    # unlike what inference sees; DAFT/Microscopy's own statistics cost 0.022 validation DSC (README, run 8). On
    # in every preset's DAFT stage; runs recorded without the field keep False.
    freeze_norm_stats: bool = False


@dataclass
class TrainConfig:
    batch_images: int = 8  # images (or slices) per step
    objects_per_image: int = 8  # boxes decoded together per image
    box_jitter_px: int = 5  # model-frame px
    # 3D slices: share of objects prompted as the engine's 3D walk prompts them (the neighbour slice's mask box
    # + 3 px, or the 3D box's xy extent) instead of their own jittered box; validation always uses that prompt.
    # 1.0 (was 0.5): DAFT/MR from run 3's general, only this changed, test MR DSC 0.747 -> 0.793 (README, 2026-11-27)
    propagation_probability: float = 1.0
    zoom_probability: float = 0.5
    zoom_small_side: float = 32.0  # objects with a long side below this (256 frame) get zoomed crops
    zoom_min_k: float = 4.0
    zoom_max_k: float = 10.0
    # share of training images given gamma / contrast augmentation (data/training_data.py random_intensity); 0 = off
    # (the default, so that runs recorded before it existed keep their configuration); the cpu and gpu presets use 0.5
    intensity_probability: float = 0.0
    # how training targets are cut from an object's area coverage at 256 (data/preprocess.py TARGET_RULES): "any"
    # (coverage > 0, the default and every recorded run's) or "half" (coverage >= 0.5); part of the cache key
    target_rule: str = "any"
    # weight of a BCE over the pixels within boundary_band_px (256 frame) of each target's boundary, added to the
    # paper's BCE + Dice + IoU MSE (losses.boundary_bce); 0 = the paper's loss (the default, every recorded run's).
    # Validation loss, early stopping and checkpoint choice stay on the paper's loss.
    boundary_weight: float = 0.0
    boundary_band_px: int = 2
    max_val_images_per_dataset: int = 200  # cap on validation images/slices per dataset (deterministic subset)
    # the same cap for model selection, which runs once per run where early stopping runs every epoch: the cpu
    # preset stops early on 20 images per dataset (speed) but selects on up to 200 (20 made differences of
    # 0.005 on 10-20 images decide which expert ships; README). 0 = every validation sample.
    select_val_images_per_dataset: int = 200
    max_steps_per_epoch: int = 0  # 0 = no cap
    # floor on steps per epoch: a small subset's plan is cycled (fresh flips, jitter, zoom) so that every expert gets
    # about the same optimisation per epoch; without it a 52-image subset made 13 steps an epoch where a large one
    # made 120 (cpu preset). 0 = one pass over the plan.
    min_steps_per_epoch: int = 0
    log_every_steps: int = 20
    # validate every this many epochs, and always after the epoch a stage may end with (its last, or the one the time
    # cap stops); early stopping and the plateau schedule count validations. 1 = every epoch (every recorded run).
    # The GPU session of 2026-11-28 spent longer validating (4.55 s a pass) than training (3.3 s an epoch; GPU.md).
    validate_every_epochs: int = 1
    num_threads: int = 0  # torch CPU threads, 0 = torch default
    teacher: StageConfig = field(default_factory=lambda: StageConfig(epochs=60, lr=5e-4, weight_decay=0.05))
    distill: StageConfig = field(default_factory=lambda: StageConfig(epochs=40, lr=5e-4))
    finetune: StageConfig = field(default_factory=lambda: StageConfig(epochs=30, lr=5e-5))
    # DAFT keeps the general model's BatchNorm statistics (run 8: selection 0.8676 -> 0.8726, README)
    daft: StageConfig = field(default_factory=lambda: StageConfig(epochs=20, lr=5e-5, freeze_norm_stats=True))


@dataclass
class Config:
    name: str = "gpu"
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def _gpu() -> Config:
    return Config(
        name="gpu",
        model=ModelConfig(
            student=EncoderConfig(widths=[16, 32, 64, 128, 256], depths=[1, 2, 2, 3, 5], neck_width=128, embed_dim=128),
            teacher=EncoderConfig(widths=[24, 48, 96, 192, 384], depths=[1, 2, 3, 4, 6], neck_width=192, neck_depth=2, embed_dim=128),
            decoder=DecoderConfig(dim=128, depth=2, heads=4, mlp_dim=512, attention_downsample=2, token_stride=4, upscale_dim=16, low_dim=8),
        ),
        # min_steps_per_epoch 8 (256 images an epoch): at batch 32 the 52-image CT subset would otherwise make 2
        # steps an epoch, 40 in its 20 DAFT epochs (the cpu preset's floor of 60 x 4 images: CT val DSC 0.663 -> 0.692)
        # intensity_probability 0.5: the cpu preset's measurement (run 11, README) carried over
        train=TrainConfig(batch_images=32, objects_per_image=8, max_val_images_per_dataset=400, select_val_images_per_dataset=400,
                          min_steps_per_epoch=8, intensity_probability=0.5),
    )


def _cpu() -> Config:
    return Config(
        name="cpu",
        model=ModelConfig(
            student=EncoderConfig(widths=[8, 16, 32, 64, 128], depths=[1, 1, 1, 2, 2], neck_width=64, embed_dim=64),
            teacher=EncoderConfig(widths=[16, 24, 48, 96, 192], depths=[1, 1, 2, 2, 3], neck_width=96, embed_dim=64),
            decoder=DecoderConfig(dim=64, depth=2, heads=4, mlp_dim=256, attention_downsample=2, token_stride=4, upscale_dim=16, low_dim=8, iou_hidden=64),
        ),
        train=TrainConfig(
            batch_images=4,
            objects_per_image=6,
            max_val_images_per_dataset=20,
            max_steps_per_epoch=120,
            min_steps_per_epoch=60,  # run 9: CT val DSC 0.663 -> 0.692, Mammography 0.811 -> 0.834 (README)
            # run 11: 10 more DAFT epochs from the shipped experts, with / without, 3 seeds: CT val DSC 0.715 / 0.695,
            # test 0.752 / 0.740; Mammography no difference (training/results/cpu-interim/17-intensity-augmentation)
            intensity_probability=0.5,
            log_every_steps=20,
            teacher=StageConfig(epochs=5, lr=1e-3, weight_decay=0.05, patience=3, plateau_patience=1),
            distill=StageConfig(epochs=4, lr=1e-3, patience=3, plateau_patience=1),
            finetune=StageConfig(epochs=5, lr=2e-4, patience=3, plateau_patience=1),
            daft=StageConfig(epochs=2, lr=1e-4, patience=3, plateau_patience=1, freeze_norm_stats=True),
        ),
    )


def _tiny() -> Config:
    return Config(
        name="tiny",
        model=ModelConfig(
            student=EncoderConfig(widths=[8, 8, 16, 16, 32], depths=[1, 1, 1, 1, 1], head_dim=8, expand=2.0, neck_width=16, embed_dim=16),
            teacher=EncoderConfig(widths=[8, 16, 16, 32, 32], depths=[1, 1, 1, 1, 1], head_dim=8, expand=2.0, neck_width=24, embed_dim=16),
            decoder=DecoderConfig(dim=16, depth=1, heads=2, mlp_dim=32, attention_downsample=1, token_stride=4, upscale_dim=8, low_dim=4, iou_hidden=16),
        ),
        train=TrainConfig(
            batch_images=4,
            objects_per_image=3,
            max_val_images_per_dataset=16,
            log_every_steps=5,
            teacher=StageConfig(epochs=4, lr=3e-3, weight_decay=0.0, patience=7, plateau_patience=2),
            distill=StageConfig(epochs=2, lr=3e-3, patience=7),
            finetune=StageConfig(epochs=2, lr=1e-3, patience=7),
            daft=StageConfig(epochs=2, lr=1e-3, patience=7, freeze_norm_stats=True),
        ),
    )


PRESETS = {"gpu": _gpu, "cpu": _cpu, "tiny": _tiny}


def get_config(name: str) -> Config:
    if name not in PRESETS:
        raise ValueError(f"unknown config {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()


def _convert(value: str, current):
    if isinstance(current, bool):
        if value.lower() in ("1", "true", "yes"):
            return True
        if value.lower() in ("0", "false", "no"):
            return False
        raise ValueError(f"expected a boolean, got {value!r}")
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, list):
        return json.loads(value)
    return value


def apply_overrides(config: Config, overrides: list[str]) -> Config:
    """``key.path=value`` overrides, e.g. ``train.finetune.lr=1e-4`` or ``model.student.depths=[1,1,1,2,2]``."""
    config = copy.deepcopy(config)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        target = config
        for p in parts[:-1]:
            if not is_dataclass(target) or not hasattr(target, p):
                raise ValueError(f"--set: unknown config key {key!r}")
            target = getattr(target, p)
        leaf = parts[-1]
        if not is_dataclass(target) or leaf not in {f.name for f in fields(target)}:
            raise ValueError(f"--set: unknown config key {key!r}")
        try:
            setattr(target, leaf, _convert(value, getattr(target, leaf)))
        except (ValueError, json.JSONDecodeError) as exc:
            raise ValueError(f"--set {key}: {exc}") from exc
    if config.train.boundary_weight < 0 or config.train.boundary_band_px < 1:
        raise ValueError(
            f"--set: train.boundary_weight must be >= 0 and train.boundary_band_px >= 1 "
            f"(got {config.train.boundary_weight} and {config.train.boundary_band_px})"
        )
    return config


def _from_dict(cls, data: dict):
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        kwargs[f.name] = _from_dict(type(default), value) if is_dataclass(default) else value
    return cls(**kwargs)


def config_from_dict(data: dict) -> Config:
    return _from_dict(Config, data)


def validation_zoom(train: TrainConfig) -> tuple[float, float] | None:
    """(small side at 256, context factor) with which validation scores small objects on zoom tiles — the values
    export writes into the manifest's smallObjectZoom, so that validation measures what the engine does; None when
    the model is not trained on zoomed crops (the engine does not zoom then)."""
    if train.zoom_probability <= 0:
        return None
    return float(train.zoom_small_side), float(max(2.0, train.zoom_min_k + 1.0))

