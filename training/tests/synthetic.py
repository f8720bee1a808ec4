"""Tiny synthetic datasets in the nnU-Net/MSD layout, made inside the tests (no files are committed)."""

from __future__ import annotations

import json
import os

import nibabel as nib
import numpy as np
from PIL import Image

from daft_train.data.splits import split_of


def case_names(dataset: str, prefix: str, count: int, min_val: int = 1, min_train: int = 2) -> list[str]:
    """``count`` case names (consecutive numbers) that give at least ``min_val`` val and ``min_train`` train cases."""
    if count < min_val + min_train:
        raise ValueError(f"{count} cases cannot hold {min_val} val and {min_train} train cases")
    start = 1
    while True:
        names = [f"{prefix}_{i:04d}" for i in range(start, start + count)]
        splits = [split_of(dataset, n) for n in names]
        if splits.count("val") >= min_val and splits.count("train") >= min_train:
            return names
        start += count


def _write_json(root: str, doc: dict) -> None:
    with open(os.path.join(root, "dataset.json"), "w") as f:
        json.dump(doc, f, indent=1)


def make_2d_regions(root: str, name: str = "synth-ct", modality: str = "CT", count: int = 16, seed: int = 0) -> str:
    """Grey images with a bright rectangle (organ, label 1) holding a darker ellipse (lesion, label 2).
    labels: body = [1, 2] (kept: rectangle ring not covered by the lesion), lesion = 2."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "labels"), exist_ok=True)
    cases = []
    for case in case_names(name, name.split("-")[1], count):
        h, w = int(rng.integers(60, 90)), int(rng.integers(60, 90))
        img = rng.normal(40, 8, (h, w))
        lab = np.zeros((h, w), np.uint8)
        y0, x0 = int(rng.integers(2, h // 3)), int(rng.integers(2, w // 3))
        y1, x1 = int(rng.integers(2 * h // 3, h - 2)), int(rng.integers(2 * w // 3, w - 2))
        img[y0 : y1 + 1, x0 : x1 + 1] += 120
        lab[y0 : y1 + 1, x0 : x1 + 1] = 1
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        ry, rx = (y1 - y0) / 4, (x1 - x0) / 4
        yy, xx = np.mgrid[0:h, 0:w]
        ell = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        img[ell] -= 70
        lab[ell] = 2
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(os.path.join(root, "images", f"{case}.png"))
        Image.fromarray(lab).save(os.path.join(root, "labels", f"{case}.png"))
        cases.append({"image": f"images/{case}.png", "label": f"labels/{case}.png"})
    _write_json(root, {"name": name, "modality": modality, "dimension": 2, "labels": {"background": 0, "body": [1, 2], "lesion": 2},
                       "instance_labels": False, "cases": cases})
    return root


def make_2d_instances(root: str, name: str = "synth-cells", count: int = 8, seed: int = 1, size: int = 300) -> str:
    """RGB images with small bright blobs, a 16-bit instance label map (ids 1..n, not consecutive)."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "labels"), exist_ok=True)
    cases = []
    for case in case_names(name, "cells", count):
        img = rng.normal(30, 6, (size, size, 3))
        lab = np.zeros((size, size), np.uint16)
        yy, xx = np.mgrid[0:size, 0:size]
        for k in range(int(rng.integers(3, 7))):
            cy, cx = rng.integers(15, size - 15, 2)
            r = int(rng.integers(4, 9))
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            lab[disc] = 1000 + 7 * k
            img[disc] += [150, 90, 170]
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(os.path.join(root, "images", f"{case}.png"))
        Image.fromarray(lab).save(os.path.join(root, "labels", f"{case}.png"))
        cases.append({"image": f"images/{case}.png", "label": f"labels/{case}.png"})
    _write_json(root, {"name": name, "modality": "Microscopy", "dimension": 2, "labels": {"background": 0, "nucleus": "instance ids"},
                       "instance_labels": True, "cases": cases})
    return root


def make_3d(root: str, name: str = "synth-mr", count: int = 6, seed: int = 2) -> str:
    """NIfTI volumes (x, y, z) = (40, 36, 8) with a bright box (label 1) next to a dimmer one (label 2);
    labels: both = [1, 2] is dropped (covered), a = 1, b = 2."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "labels"), exist_ok=True)
    cases = []
    for case in case_names(name, "mr", count):
        vol = rng.normal(100, 10, (40, 36, 8)).astype(np.float32)
        lab = np.zeros((40, 36, 8), np.uint8)
        x0, y0 = int(rng.integers(2, 12)), int(rng.integers(2, 10))
        lab[x0 : x0 + 12, y0 : y0 + 10, 2:6] = 1
        lab[x0 + 14 : x0 + 24, y0 : y0 + 14, 1:7] = 2
        vol[lab == 1] += 300
        vol[lab == 2] += 150
        aff = np.diag([1.0, 1.0, 2.5, 1.0])
        nib.save(nib.Nifti1Image(vol, aff), os.path.join(root, "images", f"{case}.nii.gz"))
        nib.save(nib.Nifti1Image(lab, aff), os.path.join(root, "labels", f"{case}.nii.gz"))
        cases.append({"image": f"images/{case}.nii.gz", "label": f"labels/{case}.nii.gz"})
    _write_json(root, {"name": name, "modality": "MR", "dimension": 3, "labels": {"background": 0, "both": [1, 2], "a": 1, "b": 2},
                       "instance_labels": False, "cases": cases})
    return root


def make_three_modalities(root: str, ct_count: int) -> list[str]:
    """The mixed set most tests train on: 2D CT regions, 2D instance cells and 3D MR, one folder each under root."""
    return [
        make_2d_regions(os.path.join(root, "ct"), count=ct_count),
        make_2d_instances(os.path.join(root, "cells"), count=6),
        make_3d(os.path.join(root, "mr"), count=4),
    ]


def make_unpacked_pack(root: str, ct_count: int) -> str:
    """The three-modality set cached by a tiny CPU run, packed and unpacked as a GPU machine gets it: the unpacked
    cache root (with pack.json), under root/cache."""
    from daft_train.cli import main as cli
    from daft_train.data.pack import PackPolicy, pack_run, unpack

    data = make_three_modalities(os.path.join(root, "data"), ct_count=ct_count)
    run = os.path.join(root, "cpu-run")
    assert cli(["cache", "--datasets", *data, "--out", run, "--config", "tiny", "--device", "cpu", "--workers", "1"]) == 0
    pack_run(run, os.path.join(root, "pack"), PackPolicy(), max_mib="none", log=lambda m: None)
    unpack(os.path.join(root, "pack"), os.path.join(root, "cache"), log=lambda m: None)
    return os.path.join(root, "cache")
