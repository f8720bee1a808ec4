"""Export one expert to ONNX (opset 17) following the engine contract, and verify it with onnxruntime-node.

encoder.onnx: "image" float32 [1, 3, 256, 256] → "embedding" float32 [1, C, h, w] (static).
decoder.onnx: "embedding" [1, C, h, w], "boxes" float32 [1, N, 4] (N dynamic) → "logits" [1, N, 256, 256],
              "iou" [1, N].
Both graphs are then rewritten for onnxruntime with the same outputs (optimize_graphs.py: the decoder's shape
arithmetic folded wherever it does not depend on N, LayerNorm2d's channel means as 1x1 convolutions).

Weights are stored as float16 (store_weights_float16): each float32 weight tensor becomes a float16 initializer
and a Cast back to float32 that onnxruntime folds when it loads the model, so inputs, outputs and arithmetic stay
float32 and the files are half the size (the shipped zoo is what git and the GPU session's 64 MiB carry).
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import tempfile
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

from onnx import TensorProto, helper, numpy_helper

from ..models.sam import DaftSam, DecoderForExport
from .optimize_graphs import optimize_file

OPSET = 17
RUN_ONNX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_onnx.mjs")


class EncoderForExport(nn.Module):
    def __init__(self, model: DaftSam):
        super().__init__()
        self.image_encoder = model.image_encoder

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.image_encoder(image)


def _export(module: nn.Module, args: tuple, path: str, **kwargs) -> None:
    extra = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        extra["dynamo"] = False  # torch >= 2.5: keep the TorchScript exporter (same graph on 1.13 and 2.x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, path, opset_version=OPSET, do_constant_folding=True, **kwargs, **extra)
    onnx.checker.check_model(onnx.load(path))


def export_onnx(model: DaftSam, out_dir: str, float16_weights: bool = True) -> tuple[str, str]:
    """Write encoder.onnx and decoder.onnx of ``model`` (moved to CPU float32, eval mode) into ``out_dir``;
    with ``float16_weights`` (the default) their weights are stored as float16 (store_weights_float16)."""
    os.makedirs(out_dir, exist_ok=True)
    model = model.to("cpu").float().eval()
    size = model.input_size
    image = torch.rand(1, 3, size, size)
    enc_path = os.path.join(out_dir, "encoder.onnx")
    dec_path = os.path.join(out_dir, "decoder.onnx")
    with torch.no_grad():
        embedding = model.encode(image)
        boxes = torch.tensor([[[10.0, 20.0, 120.0, 140.0], [0.0, 0.0, 255.0, 255.0], [50.0, 60.0, 53.0, 62.0]]])
        # The wrappers are put in eval mode too: torch.onnx.export restores the exported module's own mode when it
        # is done, and a wrapper left in training mode would switch the model's BatchNorm layers to training mode.
        _export(EncoderForExport(model).eval(), (image,), enc_path, input_names=["image"], output_names=["embedding"])
        _export(
            DecoderForExport(model).eval(),
            (embedding, boxes),
            dec_path,
            input_names=["embedding", "boxes"],
            output_names=["logits", "iou"],
            dynamic_axes={"boxes": {1: "N"}, "logits": {1: "N"}, "iou": {1: "N"}},
        )
    _declare_output_dims(dec_path, {"logits": [1, "N", size, size], "iou": [1, "N"]})
    for path in (enc_path, dec_path):
        optimize_file(path)
    if float16_weights:
        for path in (enc_path, dec_path):
            store_weights_float16(path)
    return enc_path, dec_path


# Tensors smaller than this stay float32: a Cast node costs more bytes than half of a small tensor saves.
FLOAT16_MIN_ELEMENTS = 64
FLOAT16_MAX = 65504.0


def store_weights_float16(path: str) -> int:
    """Store the float32 initializers of the ONNX model at ``path`` (of at least FLOAT16_MIN_ELEMENTS values, all
    within float16 range) as float16, each read through a Cast to float32 placed first in the graph; returns how
    many tensors were converted. Graph inputs, outputs and every computation stay float32."""
    model = onnx.load(path)
    graph = model.graph
    initializers, casts = [], []
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            values = numpy_helper.to_array(init)
            if values.size >= FLOAT16_MIN_ELEMENTS and np.abs(values).max() <= FLOAT16_MAX:
                half = numpy_helper.from_array(values.astype(np.float16), f"{init.name}.float16")
                initializers.append(half)
                casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                              name=f"{init.name}.to_float32"))
                continue
        initializers.append(init)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return len(casts)


def _declare_output_dims(path: str, dims: dict[str, list]) -> None:
    """Replace the exporter's generated symbolic output dims with the contract's (1, N, 256, 256)."""
    model = onnx.load(path)
    for output in model.graph.output:
        if output.name not in dims:
            continue
        shape = output.type.tensor_type.shape
        del shape.dim[:]
        for d in dims[output.name]:
            dim = shape.dim.add()
            if isinstance(d, int):
                dim.dim_value = d
            else:
                dim.dim_param = d
    onnx.checker.check_model(model)
    onnx.save(model, path)


def onnx_io_shapes(path: str) -> dict[str, list]:
    """name → dims (int or symbolic name) of every graph input and output."""
    model = onnx.load(path)
    shapes = {}
    for value in list(model.graph.input) + list(model.graph.output):
        dims = []
        for d in value.type.tensor_type.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else d.dim_param)
        shapes[value.name] = dims
    return shapes


def node_available() -> bool:
    return shutil.which("node") is not None


def run_onnx_node(model_path: str, inputs: dict[str, np.ndarray], threads: int = 0, warmup: int = 0, repeat: int = 1, write_outputs: bool = True) -> tuple[dict[str, np.ndarray], float]:
    """Run an ONNX model with onnxruntime-node (via run_onnx.mjs); return outputs and the median time in ms."""
    with tempfile.TemporaryDirectory(prefix="daft-onnx-") as tmp:
        spec = {}
        for name, array in inputs.items():
            arr = np.ascontiguousarray(array, dtype="<f4")
            arr.tofile(os.path.join(tmp, f"{name}.in.f32"))
            spec[name] = {"file": f"{name}.in.f32", "dims": list(arr.shape)}
        job = {"model": os.path.abspath(model_path), "inputs": spec, "outDir": "out", "threads": threads,
               "warmup": warmup, "repeat": repeat, "writeOutputs": write_outputs}
        job_path = os.path.join(tmp, "job.json")
        with open(job_path, "w") as f:
            json.dump(job, f)
        proc = subprocess.run(["node", RUN_ONNX, job_path], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{model_path}: onnxruntime-node failed: {proc.stderr.strip() or proc.stdout.strip()}")
        with open(os.path.join(tmp, "out", "result.json")) as f:
            result = json.load(f)
        outputs = {}
        if write_outputs:
            for name, out in result["outputs"].items():
                data = np.fromfile(os.path.join(tmp, "out", out["file"]), dtype="<f4")
                outputs[name] = data.reshape(out["dims"])
        return outputs, float(result["medianMs"])


def verify_with_node(model: DaftSam, enc_path: str, dec_path: str, image: np.ndarray, boxes: np.ndarray,
                     tolerance: float = 1e-3, min_mask_agreement: float = 1.0) -> dict:
    """Compare onnxruntime-node with PyTorch on one real input; raise if logits differ by more than ``tolerance``
    or if fewer than ``min_mask_agreement`` of the logits fall on the same side of 0 (the mask threshold).

    Returns {"embedding_max_abs_diff", "logits_max_abs_diff", "iou_max_abs_diff", "mask_agreement"}, or
    {"skipped": reason} when node is not installed (a warning is printed)."""
    if not node_available():
        msg = "node not found: ONNX numerical verification with onnxruntime-node SKIPPED"
        warnings.warn(msg)
        print(f"WARNING: {msg}")
        return {"skipped": msg}
    model = model.to("cpu").float().eval()
    img = torch.from_numpy(np.asarray(image, np.float32)).reshape(1, 3, model.input_size, model.input_size)
    bx = torch.from_numpy(np.asarray(boxes, np.float32)).reshape(1, -1, 4)
    with torch.no_grad():
        emb = model.encode(img)
        logits, iou = model.decode(emb, bx)
    onnx_enc, _ = run_onnx_node(enc_path, {"image": img.numpy()})
    # decode the ONNX embedding: checks the two graphs the way the engine chains them
    onnx_dec, _ = run_onnx_node(dec_path, {"embedding": onnx_enc["embedding"], "boxes": bx.numpy()})
    report = {
        "embedding_max_abs_diff": float(np.abs(onnx_enc["embedding"] - emb.numpy()).max()),
        "logits_max_abs_diff": float(np.abs(onnx_dec["logits"] - logits.numpy()).max()),
        "iou_max_abs_diff": float(np.abs(onnx_dec["iou"] - iou.numpy()).max()),
        "mask_agreement": float(np.mean((onnx_dec["logits"] > 0) == (logits.numpy() > 0))),
    }
    if onnx_dec["logits"].shape != tuple(logits.shape) or onnx_dec["iou"].shape != tuple(iou.shape):
        raise RuntimeError(f"{dec_path}: ONNX output shapes {onnx_dec['logits'].shape}, {onnx_dec['iou'].shape} differ from PyTorch")
    if not report["logits_max_abs_diff"] <= tolerance:
        raise RuntimeError(f"{dec_path}: ONNX logits differ from PyTorch by {report['logits_max_abs_diff']:.3g} > {tolerance}")
    if not report["mask_agreement"] >= min_mask_agreement:
        raise RuntimeError(f"{dec_path}: ONNX and PyTorch masks agree on {report['mask_agreement']:.5f} of the pixels "
                           f"< {min_mask_agreement}")
    return report
