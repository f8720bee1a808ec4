"""Packed-vs-original check: a run's general model evaluated (validation loss/DSC, as in training) on the
validation samples of the unpacked caches and on the same samples of the run's own caches, per dataset."""

from __future__ import annotations

import json
import os

import torch

from ..config import config_from_dict
from ..evaluate import evaluate_segmentation
from ..models.sam import build_student
from ..runtime import Runtime
from .pack import _run_cache_dirs, read_pack_index
from .training_data import SampleStore


def compare_validation(run_dir: str, cache_root: str, pack_dir: str, stage: str = "general", log=print) -> dict:
    """Validation DSC of ``run_dir``'s ``stage`` model (CPU) on both caches; the validation cap is the pack's,
    so both sides hold exactly the same samples. Returns {"datasets": {name: {...}}, "dsc_original", "dsc_packed"}."""
    from ..pipeline import load_state_dict_file

    index = read_pack_index(pack_dir)
    with open(os.path.join(run_dir, "run.json")) as f:
        run = json.load(f)
    cfg = config_from_dict(run["config"])
    model = build_student(cfg.model)
    model.load_state_dict(load_state_dict_file(os.path.join(run_dir, "stages", stage, "best.pt")))
    _, original_dirs = _run_cache_dirs(os.path.abspath(run_dir), None)
    packed_dirs = [os.path.join(os.path.abspath(cache_root), e["folder"]) for e in index["datasets"]]
    if [os.path.basename(d) for d in original_dirs] != [e["folder"] for e in index["datasets"]]:
        raise ValueError(f"{pack_dir}: packed from other caches than {run_dir}'s ({[os.path.basename(d) for d in original_dirs]})")
    policy = index["policy"]
    runtime = Runtime(torch.device("cpu"))
    results = {}
    for side, dirs in (("original", original_dirs), ("packed", packed_dirs)):
        store = SampleStore(dirs, "val", policy["split_seed"], runtime.device, None, policy["val_cap"])
        results[side] = (evaluate_segmentation(model, store, runtime, cfg.train.batch_images), store.num_samples)
        log(f"[check] {side}: {store.num_samples} validation samples, {results[side][0]['objects']} objects, "
            f"val DSC {results[side][0]['dsc']:.4f}")
    (orig, n_orig), (packed, n_packed) = results["original"], results["packed"]
    if n_orig != n_packed or orig["objects"] != packed["objects"]:
        raise RuntimeError(f"{cache_root}: the unpacked validation set ({n_packed} samples, {packed['objects']} objects) differs "
                           f"from the original ({n_orig} samples, {orig['objects']} objects)")
    codecs = {e["dataset"]: e for e in index["datasets"]}
    table = {}
    log(f"[check] {'dataset':<22} {'images':<12} {'mean|err|':>9} {'DSC orig':>9} {'DSC packed':>10} {'diff':>8}")
    for name in orig["per_dataset"]:
        a, b = orig["per_dataset"][name], packed["per_dataset"][name]
        e = codecs[name]
        table[name] = {"images": e["images"], "mean_abs_error": e["pixel_error"]["mean_abs"], "dsc_original": a, "dsc_packed": b}
        log(f"[check] {name:<22} {e['images']:<12} {e['pixel_error']['mean_abs']:>9.3f} {a:>9.4f} {b:>10.4f} {b - a:>+8.4f}")
    log(f"[check] {'mean over datasets':<22} {'':<12} {'':>9} {orig['dsc']:>9.4f} {packed['dsc']:>10.4f} {packed['dsc'] - orig['dsc']:>+8.4f}")
    return {"datasets": table, "dsc_original": orig["dsc"], "dsc_packed": packed["dsc"], "samples": n_orig, "objects": orig["objects"]}
