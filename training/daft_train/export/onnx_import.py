"""Recover a trainable student checkpoint from an exported expert (encoder.onnx + decoder.onnx), so that the
shipped experts can be fine-tuned on a user's own data without the training run that made them.

The exporter folds each BatchNorm into the convolution before it and constant-folds a few parameter
expressions (transposed Linear weights, concatenated token embeddings), so ONNX initializers are not named after
the PyTorch parameters. The map between the two is found by a probe: a student of the same configuration whose
parameters hold distinct random values is exported with the same exporter, and every probe initializer is
matched by value to the parameter (or transposed parameter, or run of concatenated parameters) it came from.
The expert's initializers, read through that map, become the parameters.

BatchNorm layers come back as identity statistics (mean 0, variance 1 - eps, scale 1) with the folded scale in
the convolution and the folded shift as the BatchNorm bias: the same function in eval mode, but not the
original running statistics. The checkpoint is marked ``norm_stats: folded``; stages that train from it must
keep BatchNorm statistics frozen (``freeze_norm_stats``, the DAFT stage's default).
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn

from onnx import TensorProto, numpy_helper

from ..config import Config
from ..models.sam import DaftSam, build_student
from .manifest import load_manifest
from .onnx_export import export_onnx

FOLDED = "folded"


class ArchitectureMismatch(ValueError):
    """The ONNX graphs are not an export of the student configuration tried (another preset may fit)."""


def read_initializers(path: str) -> dict[str, np.ndarray]:
    """float32 initializers of an ONNX file by the name the graph uses: a float16-stored weight
    (store_weights_float16: ``NAME.float16`` read through a Cast to ``NAME``) is returned as float32 under NAME."""
    try:
        model = onnx.load(path)
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: ONNX file not found") from exc
    except Exception as exc:  # noqa: BLE001 - protobuf raises various types for damaged files
        raise ValueError(f"{path}: not a readable ONNX model: {exc}") from exc
    casts = {n.input[0]: n.output[0] for n in model.graph.node if n.op_type == "Cast" and len(n.input) == 1}
    values = {}
    for init in model.graph.initializer:
        array = numpy_helper.to_array(init)
        if init.data_type == TensorProto.FLOAT16 and init.name in casts:
            values[casts[init.name]] = array.astype(np.float32)
        elif init.data_type == TensorProto.FLOAT:
            values[init.name] = array
    return values


def _probe_model(model: DaftSam, seed: int = 20261128) -> None:
    """Distinct random values in every parameter; BatchNorm as identity with scale 1 (so that the folded
    convolution weight equals the probe's convolution weight and the folded bias the BatchNorm bias)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=gen))
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.running_mean.zero_()
                module.running_var.fill_(1.0 - module.eps)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-6)


Piece = tuple[str, int, int, bool]  # (initializer name, offset in its flattened values, length, transposed)


def _match(probe_inits: dict[str, np.ndarray], params: dict[str, np.ndarray]) -> tuple[dict[str, Piece], list[str]]:
    """parameter name → where its values sit in the probe's initializers; and the float initializers that hold
    no parameter (architecture constants, which must be equal in every export)."""
    by_size: dict[int, list[str]] = {}
    for name, value in params.items():
        by_size.setdefault(value.size, []).append(name)
    placed: dict[str, Piece] = {}
    constants = []
    for init_name, init in probe_inits.items():
        flat = init.reshape(-1)
        found = False
        for name in by_size.get(flat.size, []):
            p = params[name]
            if _close(p.reshape(-1), flat):
                placed.setdefault(name, (init_name, 0, flat.size, False))
                found = True
            elif p.ndim == 2 and _close(p.T.reshape(-1), flat):
                placed.setdefault(name, (init_name, 0, flat.size, True))
                found = True
        if found:
            continue
        # a concatenation of parameters, in order (e.g. the decoder's output tokens)
        offset, pieces = 0, []
        while offset < flat.size:
            hit = next((n for n, p in params.items() if p.size <= flat.size - offset
                        and _close(p.reshape(-1), flat[offset:offset + p.size])), None)
            if hit is None:
                break
            pieces.append((hit, (init_name, offset, params[hit].size, False)))
            offset += params[hit].size
        if pieces and offset == flat.size:
            for name, piece in pieces:
                placed.setdefault(name, piece)
        else:
            constants.append(init_name)
    return placed, constants


def _is_norm_statistic(model: DaftSam, name: str) -> bool:
    """BatchNorm scale and running statistics: folded into the convolution, not stored in the ONNX files."""
    module_name, _, leaf = name.rpartition(".")
    module = model.get_submodule(module_name)
    return isinstance(module, nn.BatchNorm2d) and leaf in ("weight", "running_mean", "running_var", "num_batches_tracked")


def import_expert_onnx(encoder_path: str, decoder_path: str, cfg: Config) -> DaftSam:
    """The student (of ``cfg.model``) whose eval-mode function is the exported expert's; raises ValueError naming
    the file when the ONNX graphs do not come from this configuration and exporter."""
    probe = build_student(cfg.model)
    _probe_model(probe)
    params = {n: p.detach().numpy().copy() for n, p in probe.named_parameters()}
    # fixed buffers the graphs compute with (the prompt encoder's Fourier matrix); BatchNorm statistics are folded
    params.update({n: b.numpy().copy() for n, b in probe.named_buffers()
                   if b.is_floating_point() and not _is_norm_statistic(probe, n)})
    model = build_student(cfg.model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    placed_total: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="daft-import-") as tmp:
        probe_enc, probe_dec = export_onnx(probe, tmp, float16_weights=False)
        for probe_path, path in ((probe_enc, encoder_path), (probe_dec, decoder_path)):
            probe_inits = read_initializers(probe_path)
            expert_inits = read_initializers(path)
            placed, constants = _match(probe_inits, params)
            missing = sorted(set(probe_inits) - set(expert_inits))
            if missing:
                raise ArchitectureMismatch(f"{path}: does not match the {cfg.name} student exported by this torch "
                                 f"({len(missing)} of {len(probe_inits)} weight tensors missing, e.g. {missing[0]}); "
                                 f"pick the --config the expert was trained with")
            for init_name in constants:
                a, b = probe_inits[init_name], expert_inits[init_name]  # float16 storage rounds to ~5e-4
                if a.shape != b.shape or not np.allclose(a, b, rtol=1e-3, atol=1e-4):
                    raise ArchitectureMismatch(f"{path}: constant {init_name} differs from the {cfg.name} student's")
            for name, (init_name, offset, length, transposed) in placed.items():
                values = expert_inits[init_name].reshape(-1)
                if values.size != probe_inits[init_name].size:
                    raise ArchitectureMismatch(f"{path}: {init_name} has {values.size} values, the {cfg.name} student "
                                     f"{probe_inits[init_name].size}")
                values = values[offset:offset + length]
                shape = params[name].shape
                tensor = values.reshape(shape[::-1]).T if transposed else values.reshape(shape)
                state[name] = torch.from_numpy(np.array(tensor, dtype=np.float32))
                placed_total.add(name)
    unplaced = [n for n in params if n not in placed_total and not _is_norm_statistic(model, n)]
    if unplaced:
        raise ArchitectureMismatch(f"{encoder_path}: {len(unplaced)} parameters could not be located in the ONNX graphs "
                         f"(e.g. {unplaced[0]})")
    for module_name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            state[f"{module_name}.weight"] = torch.ones_like(module.weight)
            state[f"{module_name}.running_mean"] = torch.zeros_like(module.running_mean)
            state[f"{module_name}.running_var"] = torch.full_like(module.running_var, 1.0 - module.eps)
    model.load_state_dict(state)
    return model.eval()


def expert_files(models_dir: str, expert: str) -> tuple[str, str, dict]:
    """(encoder path, decoder path, manifest entry) of the expert named ``expert`` in ``models_dir``'s manifest."""
    manifest_path = os.path.join(models_dir, "manifest.json")
    experts = load_manifest(manifest_path)["experts"]
    entry = next((e for e in experts if e["name"] == expert), None)
    if entry is None:
        names = ", ".join(e["name"] for e in experts)
        raise ValueError(f"{manifest_path}: no expert named {expert!r} (experts: {names})")
    return os.path.join(models_dir, entry["encoder"]["file"]), os.path.join(models_dir, entry["decoder"]["file"]), entry


def _import_entry(models_dir: str, expert: str, files: tuple[str, str, dict], cfg: Config) -> tuple[DaftSam, dict]:
    encoder, decoder, entry = files
    model = import_expert_onnx(encoder, decoder, cfg)
    embedding = model.embedding_shape()
    if list(entry["embeddingShape"]) != list(embedding):
        raise ArchitectureMismatch(f"{encoder}: the manifest's embeddingShape {entry['embeddingShape']} is not the "
                                   f"{cfg.name} student's {embedding}")
    meta = {"source": {"models_dir": os.path.abspath(models_dir), "expert": expert, "version": entry["version"],
                       "encoder_sha256": entry["encoder"]["sha256"], "decoder_sha256": entry["decoder"]["sha256"]},
            "config_name": cfg.name, "norm_stats": FOLDED}
    return model, meta


def import_expert(models_dir: str, expert: str, cfg: Config) -> tuple[DaftSam, dict]:
    """The expert ``expert`` of a models folder as a student model, and the checkpoint metadata to store with it."""
    return _import_entry(models_dir, expert, expert_files(models_dir, expert), cfg)


PRESETS = ("cpu", "gpu", "tiny")


def import_checkpoint(models_dir: str, expert: str, out_path: str, config: str | None = None, overrides=(),
                      verify: bool = True, log=print) -> dict:
    """``import-onnx``: write ``expert``'s student checkpoint to ``out_path`` (atomically). Without ``config``
    the presets are tried in turn. With ``verify`` (and node installed) PyTorch and onnxruntime-node outputs
    are compared on a fixed random image; returns the checkpoint's metadata (with the comparison)."""
    from ..config import apply_overrides, get_config
    from ..trainer import save_atomic
    from .onnx_export import verify_with_node

    files = expert_files(models_dir, expert)
    errors = []
    for name in ([config] if config else PRESETS):
        cfg = apply_overrides(get_config(name), list(overrides))
        try:
            model, meta = _import_entry(models_dir, expert, files, cfg)
        except ArchitectureMismatch as exc:
            if config:
                raise
            errors.append(f"{name}: {exc}")
            continue
        break
    else:
        raise ValueError(f"{models_dir}: expert {expert!r} matches none of the presets {', '.join(PRESETS)} "
                         f"(pass --config and --set for a custom student): {errors[0]}")
    log(f"[import-onnx] {models_dir} expert {expert}: {cfg.name} student, "
        f"{sum(p.numel() for p in model.parameters())} parameters")
    if verify:
        encoder, decoder, _ = files
        rng = np.random.default_rng(0)
        image = rng.random((3, model.input_size, model.input_size), dtype=np.float32)
        boxes = np.array([[10, 20, 120, 140], [0, 0, 255, 255], [50, 60, 53, 62]], np.float32)
        report = verify_with_node(model, encoder, decoder, image, boxes, tolerance=1e-2, min_mask_agreement=0.999)
        meta["verify"] = {k: str(v) for k, v in report.items()}
        log(f"[import-onnx] PyTorch vs onnxruntime-node: {report}")
    out_dir = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    save_atomic({"model": model.state_dict(), "stage": "imported", **meta}, out_path)
    log(f"[import-onnx] wrote {out_path}; train from it with: daft_train run --init-checkpoint {out_path} "
        f"--config {cfg.name} --datasets ... (it becomes the general stage; DAFT trains with BatchNorm "
        f"statistics frozen)")
    return meta
