"""``optimize-graphs``: rewrite an expert's ONNX graphs so onnxruntime runs them faster, with the same outputs.

Two passes, each changing how a value is computed, never what it is:

- ``shape_folding``: the shape arithmetic the exporter leaves while the box count is dynamic becomes constants;
- ``channel_means``: a LayerNorm2d's means over channels become 1x1 convolutions (exact for power-of-two channels).

The exporter runs them on every expert it writes; ``optimize_zoo`` runs them on a models folder made before, checks
every new file against the one it replaces in onnxruntime-node — bit-identical outputs on random inputs, or nothing
is written — and publishes the folder whole with the manifest's sha256 values updated.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass

import numpy as np
import onnx

from .channel_means import channel_means_as_convolutions
from .shape_folding import fold_static_shapes


@dataclass
class GraphReport:
    nodes_before: int
    nodes_after: int
    shape_values_folded: int
    reshape_targets: int
    channel_means: int

    def __str__(self) -> str:
        return (f"{self.nodes_before} → {self.nodes_after} nodes ({self.shape_values_folded} shape values folded, "
                f"{self.reshape_targets} reshape targets with -1, {self.channel_means} channel means as convolutions)")


def optimize_graph(model: onnx.ModelProto) -> GraphReport:
    """Both passes on ``model``, in place."""
    folded = fold_static_shapes(model)
    means = channel_means_as_convolutions(model)
    return GraphReport(folded.nodes_before, len(model.graph.node), folded.constants, folded.reshapes, means)


def optimize_file(path: str, out_path: str | None = None) -> GraphReport:
    """Optimize the ONNX file at ``path`` and write it to ``out_path`` (default: in place, atomically)."""
    model = onnx.load(path)
    report = optimize_graph(model)
    onnx.checker.check_model(model)
    target = out_path or path
    tmp = f"{target}.{os.getpid()}.tmp"
    onnx.save(model, tmp)
    os.replace(tmp, target)
    return report


def _random_inputs(path: str, rng: np.random.Generator, boxes: int) -> dict[str, np.ndarray]:
    """Inputs for an encoder (image in [0, 1]) or a decoder (embedding, ``boxes`` boxes in the 256 frame)."""
    from .onnx_export import onnx_io_shapes

    shapes = onnx_io_shapes(path)
    if "image" in shapes:
        return {"image": rng.random([int(d) for d in shapes["image"]], dtype=np.float32)}
    corner = rng.uniform(0, 200, (1, boxes, 2)).astype(np.float32)
    return {"embedding": rng.standard_normal([int(d) for d in shapes["embedding"]]).astype(np.float32),
            "boxes": np.concatenate([corner, corner + rng.uniform(2, 56, (1, boxes, 2)).astype(np.float32)], axis=-1)}


def same_outputs(before: str, after: str, box_counts=(1, 3, 8), seed: int = 0) -> None:
    """Raise unless onnxruntime-node gives bit-identical outputs from both files (an encoder on three random
    images, a decoder on random embeddings with 1, 3 and 8 boxes), one intra-op thread as the engine runs them."""
    from .onnx_export import run_onnx_node

    rng = np.random.default_rng(seed)
    for n in box_counts:
        inputs = _random_inputs(before, rng, n)
        a, _ = run_onnx_node(before, inputs, threads=1)
        b, _ = run_onnx_node(after, inputs, threads=1)
        for name in a:
            if not np.array_equal(a[name], b[name]):
                diff = float(np.abs(a[name] - b[name]).max())
                raise ValueError(f"{after}: {name} differs from {before}'s (max {diff:g}; inputs {sorted(inputs)})")


def optimize_zoo(models_dir: str, out_dir: str | None = None, verify: bool = True, log=print) -> list[dict]:
    """Optimize every encoder and decoder of a models folder, check each against the file it replaces (``verify``)
    and publish the zoo whole with the manifest's sha256 values updated (to ``out_dir``, default in place).
    Returns one record per file."""
    from ..data.cache import publishing_folder, sha256_file
    from .manifest import load_manifest, validate_manifest

    manifest_path = os.path.join(models_dir, "manifest.json")
    load_manifest(manifest_path)
    with open(manifest_path) as f:
        manifest = json.load(f)
    files = sorted({e[part]["file"] for e in manifest["experts"] for part in ("encoder", "decoder")})
    published = os.path.abspath(out_dir or models_dir)
    records = []
    with publishing_folder(published) as tmp:
        for name in os.listdir(models_dir):
            src = os.path.join(models_dir, name)
            (shutil.copytree if os.path.isdir(src) else shutil.copyfile)(src, os.path.join(tmp, name))
        digests = {}
        for rel in files:
            path = os.path.join(tmp, rel)
            report = optimize_file(path)
            if verify:
                same_outputs(os.path.join(models_dir, rel), path)
            digests[rel] = sha256_file(path)
            records.append({"file": rel, **asdict(report), "sha256": digests[rel]})
            log(f"[optimize-graphs] {rel}: {report}{', outputs identical' if verify else ''}")
        for entry in manifest["experts"]:
            for part in ("encoder", "decoder"):
                entry[part]["sha256"] = digests[entry[part]["file"]]
        validate_manifest(manifest)
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        report_path = os.path.join(tmp, "export_report.json")
        if os.path.exists(report_path):
            with open(report_path) as f:
                export_report = json.load(f)
            export_report["optimized_graphs"] = records
            with open(report_path, "w") as f:
                json.dump(export_report, f, indent=1)
    return records
