"""A valid models folder (manifest + ONNX pairs) written from in-memory students, for the tests of import-onnx and
merge-experts."""

from __future__ import annotations

import json
import os

import torch
import torch.nn as nn

from daft_train.data.cache import sha256_file
from daft_train.export.onnx_export import export_onnx
from daft_train.models.sam import build_student


def write_zoo(root: str, experts: dict, version: str, float16: bool = True, selector: bool = False) -> str:
    """``experts``: name → (folder, model). Every pair is exported into ``root/folder``; the manifest names the
    general expert (if any) the fallback for every modality and each other expert for its own name; versions are
    ``{version}-{name}``. With ``selector`` a stand-in selector.json is written and named by the routing."""
    entries = []
    for name, (folder, model) in experts.items():
        export_onnx(model, os.path.join(root, folder), float16_weights=float16)
        entries.append({
            "name": name, "modalities": ["*"] if name == "general" else [name],
            "encoder": {"file": f"{folder}/encoder.onnx", "sha256": sha256_file(os.path.join(root, folder, "encoder.onnx"))},
            "decoder": {"file": f"{folder}/decoder.onnx", "sha256": sha256_file(os.path.join(root, folder, "decoder.onnx"))},
            "inputSize": 256, "embeddingShape": model.embedding_shape(), "normalization": "minmax01",
            "version": f"{version}-{name}"})
    manifest = {"format": "daft-manifest", "version": 1, "fallback": "general", "experts": entries}
    if selector:
        manifest["routing"] = {"selector": "selector.json"}
        with open(os.path.join(root, "selector.json"), "w") as f:
            f.write('{"format": "stand-in"}')
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    return root


def trained_looking_student(cfg, seed=3):
    """A student with non-trivial weights and BatchNorm statistics (what training leaves behind)."""
    torch.manual_seed(seed)
    model = build_student(cfg.model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.2 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
    return model.eval()
