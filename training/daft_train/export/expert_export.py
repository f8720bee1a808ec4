"""Export the selected experts of a run: <models>/<stage folder>/{encoder,decoder}.onnx + manifest.json.

The general expert (name "general", modalities ["*"]) is the fallback. A subset gets its own expert only when
its selected stage differs from the general expert's; otherwise (and for modalities without data) its inputs
route to the fallback. Every exported pair is checked against PyTorch with onnxruntime-node on a real
validation image (fails if logits differ by more than 1e-3; skipped with a warning when node is missing).
"""

from __future__ import annotations

import json
import os
import shutil

from ..data.cache import publishing_folder, sha256_file
from ..config import validation_zoom
from ..select import load_selection
from ..subsets import GENERAL, cluster_subsets_file, subset_modalities
from .manifest import (DEFAULT_FILENAME_RULES, DEFAULT_METADATA_MODALITIES, DEFAULT_NIFTI_HEADER_RULES,
                       DEFAULT_TEST_TIME_MIRRORING, MANIFEST_FORMAT, MANIFEST_VERSION, TEST_TIME_MIRRORINGS,
                       validate_manifest)
from .onnx_export import export_onnx, onnx_io_shapes, verify_with_node

# onnxruntime-node against PyTorch's float32 model. The float16-stored weights move logits by up to ~0.1 where
# they are large and flip almost no pixel of the mask (threshold 0); the test split's mean DSC and NSD over
# modalities did not move in the 4th decimal (README, "Model contract"). float32 weights stay within 1e-3.
LOGITS_TOLERANCE = 0.25
MIN_MASK_AGREEMENT = 0.999


def check_contract(enc_path: str, dec_path: str, embedding_shape: list[int], size: int = 256) -> None:
    enc, dec = onnx_io_shapes(enc_path), onnx_io_shapes(dec_path)
    want_enc = {"image": [1, 3, size, size], "embedding": [1] + embedding_shape}
    want_dec = {"embedding": [1] + embedding_shape, "boxes": [1, "N", 4], "logits": [1, "N", size, size], "iou": [1, "N"]}
    if enc != want_enc:
        raise RuntimeError(f"{enc_path}: inputs/outputs {enc} differ from the contract {want_enc}")
    if dec != want_dec:
        raise RuntimeError(f"{dec_path}: inputs/outputs {dec} differ from the contract {want_dec}")


def _stage_folder(stage_key: str) -> str:
    return stage_key.replace("/", "-")


EXPORT_POLICIES = ("selected", "daft", "general")


def export_run(p, models_dir: str | None = None, verify: bool = True, policy: str = "selected",
               selector: str | None = None, mirroring: str = DEFAULT_TEST_TIME_MIRRORING) -> str:
    """Export and write the manifest; returns the manifest path.

    policy: "selected" — per subset the stage the validation selection chose (what ships); "daft" — every subset's
    data-aware fine-tuned model, general-stage fallback; "general" — the general-stage model alone. The last two
    exist to compare DAFT with one general model on the test split with the same engine and `daft eval`.

    mirroring: every expert's `testTimeMirroring`, the engine's default test-time mirroring with it ("xy": 4
    passes; measured on the validation split in session 6, training/results/cpu-interim/8-test-time-mirroring).
    """
    if policy not in EXPORT_POLICIES:
        raise ValueError(f"export policy must be one of {', '.join(EXPORT_POLICIES)}, got {policy!r}")
    if mirroring not in TEST_TIME_MIRRORINGS:
        raise ValueError(f"test-time mirroring must be one of {', '.join(TEST_TIME_MIRRORINGS)}, got {mirroring!r}")
    selection = load_selection(p.run_dir)
    published_dir = os.path.abspath(models_dir or os.path.join(p.run_dir, "models"))
    check_replaceable_models_dir(published_dir)
    # Written in full beside the destination, then swapped in: no stale expert of an earlier export stays (it
    # would bloat the shipped zoo), and a failed export leaves the old folder as it was.
    with publishing_folder(published_dir) as models_dir:
        _export_into(p, selection, models_dir, verify, policy, selector, mirroring)
    path = os.path.join(published_dir, "manifest.json")
    p.log(f"[export] published {published_dir}")
    return path


def check_replaceable_models_dir(path: str) -> None:
    """Export replaces the whole folder: refuse one that holds anything but an earlier export."""
    if not os.path.isdir(path) or not os.listdir(path):
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f"{path}: not a folder")
        return
    if not os.path.isfile(os.path.join(path, "manifest.json")):
        raise ValueError(f"{path}: not empty and holds no manifest.json; export replaces the whole folder, "
                         "so give --models-dir an empty or earlier export folder")


def _export_into(p, selection: dict, models_dir: str, verify: bool, policy: str, selector: str | None,
                 mirroring: str) -> None:
    general = selection["subsets"].get(GENERAL.name, {})
    if not general.get("selected"):
        raise ValueError(f"{p.run_dir}: selection has no general expert; run select first")
    subsets = {s.name: s for s in p.subsets()}
    metas = p.metas
    exported: dict[str, dict] = {}
    report: dict = {"experts": {}}

    def export_stage(stage_key: str, subset) -> dict:
        if stage_key in exported:
            return exported[stage_key]
        stage, _, sub = stage_key.partition("/")
        model = p.load_stage_model(stage, sub or None)
        folder = _stage_folder(stage_key)
        enc_path, dec_path = export_onnx(model, os.path.join(models_dir, folder))
        shape = model.embedding_shape()
        check_contract(enc_path, dec_path, shape, model.input_size)
        verification = {"skipped": "--no-verify"}
        if verify:
            store = p.store("val", subset)
            entries = store.eval_plan(16)[:1]
            batch = store.make_batch(entries, 1, None, augment=False)
            image = batch.images[0].cpu().numpy()
            boxes = batch.boxes[0][batch.valid[0]].cpu().numpy()
            verification = verify_with_node(model, enc_path, dec_path, image, boxes, LOGITS_TOLERANCE,
                                            MIN_MASK_AGREEMENT)
            if "skipped" not in verification:
                p.log(f"[export] {stage_key}: onnxruntime-node vs PyTorch max abs diff: logits {verification['logits_max_abs_diff']:.2e}, "
                      f"iou {verification['iou_max_abs_diff']:.2e}, embedding {verification['embedding_max_abs_diff']:.2e}, "
                      f"mask agreement {verification['mask_agreement']:.5f}")
        info = {
            "cost": model_cost(model),
            "encoder": {"file": f"{folder}/encoder.onnx", "sha256": sha256_file(enc_path)},
            "decoder": {"file": f"{folder}/decoder.onnx", "sha256": sha256_file(dec_path)},
            "embeddingShape": shape,
            "inputSize": model.input_size,
            "verification": verification,
        }
        exported[stage_key] = info
        return info

    experts = []

    def add_expert(name: str, modalities: list[str], stage_key: str, subset_name: str, entry: dict, subset) -> None:
        info = export_stage(stage_key, subset)
        metrics = {"val_dsc": float(entry["scores"][stage_key]), "val_objects": float(entry["val_objects"]), **info["cost"]}
        for key, score in entry["scores"].items():
            if key != stage_key and score is not None:
                metrics[f"val_dsc_{key.replace('/', '_')}"] = float(score)
        below, context = validation_zoom(p.cfg.train) or (float(p.cfg.train.zoom_small_side), 2.0)
        zoom = {
            # Objects trained on zoomed crops (train.zoom_*): the engine tiles the same way at inference, and
            # validation scored them the same way (config.validation_zoom).
            "belowFramePx": below,
            "contextFactor": context,
            "minTilePx": 32,
        }
        experts.append({
            "name": name,
            "modalities": modalities,
            "encoder": info["encoder"],
            "decoder": info["decoder"],
            "inputSize": info["inputSize"],
            "embeddingShape": info["embeddingShape"],
            "normalization": "minmax01",
            "version": f"{p.stage_run_created(stage_key.partition('/')[0])}-{_stage_folder(stage_key)}",
            "stage": stage_key.partition("/")[0],
            "subset": subset_name,
            "metrics": metrics,
            **({"smallObjectZoom": zoom} if p.cfg.train.zoom_probability > 0 else {}),
            **({"testTimeMirroring": mirroring} if mirroring != "off" else {}),
        })
        report["experts"][name] = {"stage": stage_key, "verification": info["verification"]}

    if policy == "selected":
        add_expert(GENERAL.name, ["*"], general["selected"], "all", general, GENERAL)
    else:
        add_expert(GENERAL.name, ["*"], _require_stage(general, "general"), "all", general, GENERAL)
    for name, entry in selection["subsets"].items():
        if name == GENERAL.name or policy == "general":
            continue
        if policy == "daft":
            key = f"daft/{name}"
            if name in subsets and key in entry.get("scores", {}):
                add_expert(name, subset_modalities(subsets[name], metas), key, name, entry, subsets[name])
            continue
        if not entry.get("selected") or entry["selected"] == general["selected"] or name not in subsets:
            p.log(f"[export] {name}: routed to the general expert")
            continue
        add_expert(name, subset_modalities(subsets[name], metas), entry["selected"], name, entry, subsets[name])
    routing = {"filenameRules": DEFAULT_FILENAME_RULES, "metadataModalities": DEFAULT_METADATA_MODALITIES,
               "niftiHeaderRules": DEFAULT_NIFTI_HEADER_RULES}
    clusters = cluster_subsets_file(p)
    if clusters:
        # Cluster experts (modalities []) are reached by nearest centroid: the subsets file ships beside them.
        shutil.copyfile(clusters, os.path.join(models_dir, "subsets.json"))
        routing["subsets"] = "subsets.json"
    if selector:
        # The learned selector (`daft selector train`, TypeScript) ships beside the experts.
        with open(selector) as f:
            selector_json = json.load(f)
        if selector_json.get("format") != "daft-selector":
            raise ValueError(f"{selector}: not a daft selector file (format {selector_json.get('format')!r})")
        shutil.copyfile(selector, os.path.join(models_dir, "selector.json"))
        routing["selector"] = "selector.json"
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "experts": experts,
        "fallback": GENERAL.name,
        "routing": routing,
        "createdBy": f"daft-train ({p.cfg.name} config, run {p.info['created']})",
    }
    validate_manifest(manifest)
    path = os.path.join(models_dir, "manifest.json")
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    with open(os.path.join(models_dir, "export_report.json"), "w") as f:
        json.dump(report, f, indent=2)
    p.log(f"[export] wrote {len(experts)} experts: {', '.join(e['name'] for e in experts)}")


def _require_stage(entry: dict, stage_key: str) -> str:
    if stage_key not in entry.get("scores", {}):
        raise ValueError(f"stage {stage_key} has no validation score in the selection; run it and select first")
    return stage_key


def model_cost(model) -> dict:
    """Encoder GMAC per 256² image, decoder GMAC per box, parameters: recorded in the manifest for benchmarks."""
    import torch

    from ..models.macs import count_macs

    with torch.no_grad():
        image = torch.rand(1, 3, model.input_size, model.input_size)
        emb = model.encode(image)
        box = torch.tensor([[[10.0, 20.0, 100.0, 120.0]]])
        one = count_macs(model.decode, emb, box)
        ten = count_macs(model.decode, emb, box.repeat(1, 10, 1))
        return {
            "encoderGmac": count_macs(model.encode, image) / 1e9,
            "decoderGmacPerBox": (ten - one) / 9 / 1e9,
            "parameters": float(sum(p.numel() for p in model.parameters())),
        }
