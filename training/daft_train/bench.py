"""Parameters, MACs and onnxruntime-node CPU timings of a config's student / teacher (``python -m daft_train bench``)."""

from __future__ import annotations

import tempfile

import numpy as np
import torch

from .config import apply_overrides, get_config
from .export.onnx_export import export_onnx, node_available, run_onnx_node
from .models.macs import count_macs
from .models.sam import build_student, build_teacher, count_parameters
from .pipeline import load_state_dict_file


def run_bench(config: str, overrides: list[str], checkpoint: str | None, threads: int, box_counts: list[int], repeat: int, log=print) -> dict:
    cfg = apply_overrides(get_config(config), overrides)
    torch.manual_seed(0)
    student = build_student(cfg.model).eval()
    if checkpoint:
        student.load_state_dict(load_state_dict_file(checkpoint, trusted=False))
    teacher = build_teacher(cfg.model).eval()
    image = torch.rand(1, 3, cfg.model.input_size, cfg.model.input_size)
    report: dict = {"config": cfg.name}
    for name, model in (("student", student), ("teacher", teacher)):
        emb = model.encode(image)
        one = count_macs(model.decode, emb, torch.tensor([[[10.0, 20.0, 100.0, 120.0]]]))
        hundred = count_macs(model.decode, emb, torch.tensor([[[10.0, 20.0, 100.0, 120.0]]]).repeat(1, 100, 1))
        report[name] = {
            "params_image_encoder": count_parameters(model.image_encoder),
            "params_prompt_encoder": count_parameters(model.prompt_encoder),
            "params_mask_decoder": count_parameters(model.mask_decoder),
            "params_total": count_parameters(model),
            "encoder_gmac": count_macs(model.encode, image) / 1e9,
            "decoder_mmac_per_image": (one - (hundred - one) / 99) / 1e6,
            "decoder_mmac_per_box": (hundred - one) / 99 / 1e6,
            "embedding_shape": list(emb.shape[1:]),
        }
        r = report[name]
        log(f"{cfg.name} {name}: params encoder {r['params_image_encoder'] / 1e6:.2f}M, prompt encoder {r['params_prompt_encoder']}, "
            f"decoder {r['params_mask_decoder'] / 1e6:.2f}M, total {r['params_total'] / 1e6:.2f}M; encoder {r['encoder_gmac']:.3f} GMAC; "
            f"decoder {r['decoder_mmac_per_image']:.1f} MMAC per image + {r['decoder_mmac_per_box']:.2f} MMAC per box; embedding {r['embedding_shape']}")
    if not node_available():
        log("WARNING: node not found: onnxruntime-node timings skipped")
        return report
    with tempfile.TemporaryDirectory(prefix="daft-bench-") as tmp:
        enc, dec = export_onnx(student, tmp)
        img = image.numpy()
        _, enc_ms = run_onnx_node(enc, {"image": img}, threads=threads, warmup=2, repeat=repeat, write_outputs=False)
        report["onnx_encoder_median_ms"] = enc_ms
        log(f"onnxruntime-node ({threads} threads) student encoder: median {enc_ms:.1f} ms per image")
        emb = student.encode(image).detach().numpy()
        rng = np.random.default_rng(0)
        report["onnx_decoder_median_ms"] = {}
        for n in box_counts:
            xy = rng.uniform(0, 200, size=(1, n, 2))
            wh = rng.uniform(4, 56, size=(1, n, 2))
            boxes = np.concatenate([xy, xy + wh], axis=-1).astype(np.float32)
            _, ms = run_onnx_node(dec, {"embedding": emb, "boxes": boxes}, threads=threads, warmup=1, repeat=max(3, repeat // 2), write_outputs=False)
            report["onnx_decoder_median_ms"][n] = ms
            log(f"onnxruntime-node ({threads} threads) decoder N={n}: median {ms:.1f} ms ({ms / n:.2f} ms per box)")
    return report
