"""The run folder, its data and models, and the order of the stages: teacher → distill (distill.py) → general
fine-tuning (finetune.py) → DAFT per subset (daft.py) → select (select.py) → export (export/expert_export.py).

RUN_DIR/
  run.json                 config, datasets, seed, subsets spec, creation time (checked on every re-run),
                           base_run (--base-run: teacher/distill/general are that run's finished stages)
  cache/                   preprocessed datasets (unless --cache-dir)
  stages/teacher/ stages/distill/ stages/general/ stages/daft/<subset>/   (see trainer.py)
  selection.json / .csv / .md
  models/                  exported experts + manifest.json
"""

from __future__ import annotations

import json
import os
import time

import torch

from .config import Config, apply_overrides, config_from_dict, get_config
from .data.cache import build_cache, run_cache_root
from .data.training_data import SampleStore
from .models.sam import DaftSam, build_student, build_teacher
from .runtime import Runtime, init_runtime
from .subsets import GENERAL, Subset, parse_subsets
from .trainer import StageResult, read_done, train_stage, write_json_atomic

STAGE_TEACHER = "teacher"
STAGE_DISTILL = "distill"
STAGE_GENERAL = "general"
STAGE_DAFT = "daft"
# Stages a run started with --base-run takes from its base run instead of training them.
BASE_RUN_STAGES = (STAGE_TEACHER, STAGE_DISTILL, STAGE_GENERAL)


def _require_recorded(recorded: dict, other_prefix: str, used_prefix: str, datasets, config, seed, split_seed) -> None:
    """The --datasets / --config / --seed / --split-seed given (None: not given) must be those a run.json recorded
    (this run's on a re-run, the base run's for --base-run); else a one-line ValueError."""
    if datasets and [os.path.abspath(d) for d in datasets] != recorded["datasets"]:
        raise ValueError(f"{other_prefix} other --datasets: {recorded['datasets']}")
    if config and config != recorded["config_name"]:
        raise ValueError(f"{used_prefix} --config {recorded['config_name']}")
    if seed is not None and seed != recorded["seed"]:
        raise ValueError(f"{used_prefix} --seed {recorded['seed']}")
    recorded_split = recorded.get("split_seed", recorded["seed"])
    if split_seed is not None and split_seed != recorded_split:
        raise ValueError(f"{used_prefix} --split-seed {recorded_split}")


def load_checkpoint_object(path: str, device="cpu", trusted: bool = True):
    """What a checkpoint file holds. Files this package wrote are trusted; a user-supplied file is first read with
    weights_only=True (no arbitrary pickles) and only if that reader cannot parse it (e.g. torch 1.13 rejects plain
    floats) with the full unpickler."""
    try:
        if trusted:
            return torch.load(path, map_location=device, weights_only=False)
        try:
            return torch.load(path, map_location=device, weights_only=True)
        except FileNotFoundError:
            raise
        except Exception:  # noqa: BLE001 - the restricted unpickler raises various types
            print(f"warning: {path}: not loadable with weights_only=True; loading it as a full pickle (trusted file)")
            return torch.load(path, map_location=device, weights_only=False)
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: checkpoint not found") from exc
    except Exception as exc:  # noqa: BLE001 - torch raises many types for bad files
        raise ValueError(f"{path}: cannot load checkpoint: {exc}") from exc


def state_dict_of(obj, path: str) -> dict:
    """The model state dict of a loaded checkpoint ({"model": state_dict} or a bare state dict)."""
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    if not isinstance(obj, dict) or not any(k.startswith("image_encoder.") for k in obj):
        raise ValueError(f"{path}: not a DAFT checkpoint (expected keys image_encoder.*, prompt_encoder.*, mask_decoder.*)")
    return obj


def load_state_dict_file(path: str, device="cpu", trusted: bool = True) -> dict:
    """The model state dict of a checkpoint file (see load_checkpoint_object)."""
    return state_dict_of(load_checkpoint_object(path, device, trusted), path)


class Pipeline:
    def __init__(
        self,
        run_dir: str,
        datasets: list[str] | None = None,
        config: str | None = None,
        overrides: list[str] | None = None,
        seed: int | None = None,
        subsets: str | None = None,
        device: str = "auto",
        max_minutes_per_stage: float = 0.0,
        cache_dir: str | None = None,
        init_checkpoint: str | None = None,
        workers: int = 0,
        base_run: str | None = None,
        split_seed: int | None = None,
        log=print,
    ):
        self.run_dir = os.path.abspath(run_dir)
        if subsets and subsets.endswith(".json") and os.path.isfile(subsets):
            subsets = os.path.abspath(subsets)  # run.json must name it the same way from any working directory
        self.log = log
        self.max_minutes = max_minutes_per_stage
        self.init_checkpoint = init_checkpoint
        # the stage an --init-checkpoint imported from ONNX (BatchNorm folded) becomes: general (only DAFT trains) or
        # distill (the general fine-tuning continues it: continuation.py)
        self.imported_stage = STAGE_GENERAL
        run_json = os.path.join(self.run_dir, "run.json")
        previous = None
        if os.path.exists(run_json):
            with open(run_json) as f:
                previous = json.load(f)
        if previous is not None and base_run and os.path.abspath(base_run) != previous.get("base_run"):
            raise ValueError(f"{run_json}: this run was started with base run {previous.get('base_run') or '(none)'}, "
                             f"not --base-run {os.path.abspath(base_run)}")
        if previous is None and base_run:
            if init_checkpoint:
                raise ValueError("--base-run and --init-checkpoint exclude each other (the base run has the stages)")
            base = self._read_base_run(base_run)
            # --seed is this run's own training seed (DAFT seeds from one general); the split stays the base's
            _require_recorded(base, f"{base_run}: the base run was trained on", f"{base_run}: the base run used",
                              datasets, config, None, split_seed)
            cfg = config_from_dict(base["config"])
            if overrides:
                cfg = apply_overrides(cfg, overrides)
            self.info = {
                "config": cfg.to_dict(),
                "config_name": base["config_name"],
                "datasets": base["datasets"],
                "seed": base["seed"] if seed is None else seed,
                "split_seed": base.get("split_seed", base["seed"]),
                "subsets": subsets or "modality",
                "created": time.strftime("%Y%m%d-%H%M%S"),
                "base_run": os.path.abspath(base_run),
            }
        elif previous is None:
            if not datasets:
                raise ValueError(f"{self.run_dir}: new run folder: --datasets is required")
            cfg = apply_overrides(get_config(config or "gpu"), overrides or [])
            self.info = {
                "config": cfg.to_dict(),
                "config_name": cfg.name,
                "datasets": [os.path.abspath(d) for d in datasets],
                "seed": 0 if seed is None else seed,
                "split_seed": (0 if seed is None else seed) if split_seed is None else split_seed,
                "subsets": subsets or "modality",
                "created": time.strftime("%Y%m%d-%H%M%S"),
            }
        else:
            self.info = previous
            _require_recorded(previous, f"{run_json}: this run was started with",
                              f"{run_json}: this run was started with", datasets, config, seed, split_seed)
            if subsets and subsets != previous["subsets"]:
                self.info["subsets"] = subsets
            cfg = config_from_dict(previous["config"])
            if overrides:  # e.g. more epochs when continuing
                cfg = apply_overrides(cfg, overrides)
                self.info["config"] = cfg.to_dict()
        self.cfg: Config = cfg
        self.seed = int(self.info["seed"])
        # validation split seed (default: the seed): several seeds of a stage can share one split
        self.split_seed = int(self.info.get("split_seed", self.seed))
        self.runtime: Runtime = init_runtime(device, cfg.train.num_threads)
        self.base_run: str | None = self.info.get("base_run")
        self.cache_root = run_cache_root(self.run_dir, self.info, cache_dir)
        if cache_dir:
            self.info["cache_dir"] = self.cache_root  # later commands on this run find the same caches
        if self.runtime.is_main:
            os.makedirs(self.run_dir, exist_ok=True)
            write_json_atomic(self.info, run_json)
        self.workers = workers
        self._cache_dirs: list[str] | None = None
        self._stores: dict = {}

    # ------------------------------------------------------------------ data

    @property
    def cache_dirs(self) -> list[str]:
        if self._cache_dirs is None:
            dirs = []
            if self.runtime.is_main:
                for d in self.info["datasets"]:
                    dirs.append(build_cache(d, self.cache_root, self.workers, self.log, self.cfg.train.target_rule))
            self.runtime.barrier()
            if not self.runtime.is_main:
                dirs = [build_cache(d, self.cache_root, 1, self.log, self.cfg.train.target_rule) for d in self.info["datasets"]]
            self._cache_dirs = dirs
        return self._cache_dirs

    @property
    def metas(self) -> list[dict]:
        out = []
        for d in self.cache_dirs:
            with open(os.path.join(d, "meta.json")) as f:
                out.append(json.load(f))
        return out

    def subsets(self) -> list[Subset]:
        return parse_subsets(self.info["subsets"], self.metas)

    def store(self, split: str, subset: Subset = GENERAL, val_cap: int | None = None) -> SampleStore:
        """Samples of ``split`` in ``subset``; validation capped per dataset by ``val_cap`` (default: the early-stopping
        cap ``train.max_val_images_per_dataset``; 0 = no cap)."""
        cap = (self.cfg.train.max_val_images_per_dataset if val_cap is None else val_cap) if split == "val" else 0
        key = (split, subset.name, tuple(subset.modalities), tuple(subset.datasets), cap)
        if key not in self._stores:
            self._stores[key] = SampleStore(self.cache_dirs, split, self.split_seed, self.runtime.device, subset.includes, cap)
        return self._stores[key]

    # ------------------------------------------------------------------ models

    @staticmethod
    def _read_base_run(base_run: str) -> dict:
        """run.json of a --base-run folder whose general stage has finished."""
        path = os.path.join(os.path.abspath(base_run), "run.json")
        try:
            with open(path) as f:
                base = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: --base-run needs a run folder with run.json: {exc}") from exc
        if base.get("base_run"):
            raise ValueError(f"{path}: the base run itself has a base run; give that one ({base['base_run']})")
        general = os.path.join(os.path.abspath(base_run), "stages", STAGE_GENERAL)
        if read_done(general) is None:
            raise ValueError(f"{general}: the base run's general stage has not finished")
        return base

    def stage_dir(self, stage: str, subset: str | None = None) -> str:
        """A stage's folder; with --base-run, teacher/distill/general are the base run's (read, never trained)."""
        root = self.base_run if self.base_run and stage in BASE_RUN_STAGES else self.run_dir
        parts = [root, "stages", stage] + ([subset] if subset else [])
        return os.path.join(*parts)

    def stage_run_created(self, stage: str) -> str:
        """Creation stamp of the run that trained ``stage`` (the base run's for adopted stages): expert versions."""
        if self.base_run and stage in BASE_RUN_STAGES:
            with open(os.path.join(self.base_run, "run.json")) as f:
                return json.load(f)["created"]
        return self.info["created"]

    def _adopted(self, stage: str):
        """With --base-run: the base run's finished ``stage`` (logged), or an error; None without a base run."""
        if not self.base_run:
            return None
        done = read_done(self.stage_dir(stage))
        if done is None:
            raise ValueError(f"{self.stage_dir(stage)}: stage {stage} of the base run has not finished; "
                             f"finish it in {self.base_run}")
        self.log(f"[{stage}] from the base run {self.base_run}")
        return done

    def build(self, kind: str) -> DaftSam:
        torch.manual_seed(self.seed)
        return build_teacher(self.cfg.model) if kind == "teacher" else build_student(self.cfg.model)

    def load_stage_model(self, stage: str, subset: str | None = None) -> DaftSam:
        path = os.path.join(self.stage_dir(stage, subset), "best.pt")
        if read_done(self.stage_dir(stage, subset)) is None:
            name = f"{stage}/{subset}" if subset else stage
            raise ValueError(f"{path}: stage {name} has not finished; run it first")
        kind = "teacher" if stage == STAGE_TEACHER else "student"
        model = self.build(kind)
        model.load_state_dict(load_state_dict_file(path))
        return model

    def _train(self, name: str, out_dir: str, model, stage_cfg, subset: Subset = GENERAL, teacher=None, all_slices=None, kind="student") -> StageResult:
        train_store = self.store("train", subset)
        val_store = self.store("val", subset)
        if all_slices is None:
            all_slices = False
        self.log(f"[{name}] {train_store.num_samples} training samples ({train_store.num_objects} objects), "
                 f"{val_store.num_samples} validation samples ({val_store.num_objects} objects) on {self.runtime.device}")
        return train_stage(name, out_dir, model, stage_cfg, self.cfg.train, self.runtime, train_store, val_store, self.seed,
                           self.max_minutes, teacher=teacher, all_slices=all_slices, encoder_kind=kind, log=self.log)

    @staticmethod
    def _freeze(model: DaftSam, prompt: bool = False, decoder: bool = False, encoder: bool = False) -> None:
        for module, frozen in ((model.prompt_encoder, prompt), (model.mask_decoder, decoder), (model.image_encoder, encoder)):
            for p in module.parameters():
                p.requires_grad_(not frozen)

    # ------------------------------------------------------------------ stages (distill.py, finetune.py, daft.py)

    def train(self, name: str, out_dir: str, model, stage_cfg, subset: Subset = GENERAL, teacher=None, all_slices: bool = False,
              kind: str = "student") -> StageResult:
        """Train ``model`` on ``subset``'s train split, validating on its val split (see trainer.train_stage)."""
        train_store = self.store("train", subset)
        val_store = self.store("val", subset)
        self.log(f"[{name}] {train_store.num_samples} training samples ({train_store.num_objects} objects), "
                 f"{val_store.num_samples} validation samples ({val_store.num_objects} objects) on {self.runtime.device}")
        return train_stage(name, out_dir, model, stage_cfg, self.cfg.train, self.runtime, train_store, val_store, self.seed,
                           self.max_minutes, teacher=teacher, all_slices=all_slices, encoder_kind=kind, log=self.log)

    def skip_finished(self, stage: str, subset: str | None = None) -> StageResult:
        done = read_done(self.stage_dir(stage, subset))
        self.log(f"[{stage}{'/' + subset if subset else ''}] already finished; skipped")
        return done

    @staticmethod
    def freeze(model: DaftSam, prompt: bool = False, decoder: bool = False, encoder: bool = False) -> None:
        for module, frozen in ((model.prompt_encoder, prompt), (model.mask_decoder, decoder), (model.image_encoder, encoder)):
            for p in module.parameters():
                p.requires_grad_(not frozen)

    def run_teacher(self) -> StageResult | None:
        from .distill import train_teacher

        if self.base_run:
            # the base run may have adopted a student-shaped --init-checkpoint and have no teacher
            return read_done(self.stage_dir(STAGE_TEACHER))
        return train_teacher(self)

    def run_distill(self) -> StageResult:
        from .distill import distill_student

        return self._adopted(STAGE_DISTILL) or distill_student(self)

    def run_finetune(self) -> StageResult:
        from .finetune import finetune_general

        return self._adopted(STAGE_GENERAL) or finetune_general(self)

    def run_daft(self) -> dict[str, StageResult | None]:
        from .daft import train_daft

        return train_daft(self)

    def _newer_than_stages(self, path: str) -> bool:
        """True when ``path`` exists and was written after every finished stage (nothing to redo)."""
        if not os.path.exists(path):
            return False
        stamp = os.path.getmtime(path)
        stages = os.path.join(self.run_dir, "stages")
        for root, _, files in os.walk(stages):
            if "done.json" in files and os.path.getmtime(os.path.join(root, "done.json")) > stamp:
                return False
        return True

    def run_all(self, models_dir: str | None = None, verify: bool = True) -> None:
        """Every stage, then selection and export; on a re-run, finished stages are skipped and selection /
        export are redone only when a stage finished after they were written (or the subsets changed)."""
        from .export.expert_export import export_run
        from .select import run_selection

        self.run_teacher()
        self.run_distill()
        self.run_finetune()
        self.run_daft()
        selection = os.path.join(self.run_dir, "selection.json")
        fresh = self._newer_than_stages(selection) and self._selection_subsets(selection) == self.info["subsets"]
        if fresh:
            self.log(f"[select] {selection} is up to date; skipped")
        else:
            run_selection(self)
        manifest = os.path.join(os.path.abspath(models_dir or os.path.join(self.run_dir, "models")), "manifest.json")
        if fresh and os.path.exists(manifest) and os.path.getmtime(manifest) >= os.path.getmtime(selection):
            self.log(f"[export] {manifest} is up to date; skipped")
        elif self.runtime.is_main:
            export_run(self, models_dir, verify=verify)

    @staticmethod
    def _selection_subsets(path: str) -> str | None:
        with open(path) as f:
            return json.load(f).get("subsets_spec")
