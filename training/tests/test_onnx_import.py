"""import-onnx: an exported expert comes back as a trainable student with the same function, and a run started
from it adopts it as the general stage and trains only DAFT (tiny config, CPU)."""

import json
import os

import numpy as np
import pytest
import torch
import torch.nn as nn

import synthetic
from zoo import trained_looking_student, write_zoo
from daft_train.cli import main
from daft_train.config import get_config
from daft_train.export.onnx_export import FLOAT16_MIN_ELEMENTS, export_onnx
from daft_train.export.onnx_import import FOLDED, import_checkpoint, import_expert_onnx, read_initializers
from daft_train.models.sam import build_student


def write_models_dir(root, model, name="general", float16=True):
    folder = write_zoo(os.path.join(root, "models"), {name: (name, model)}, "test", float16=float16)
    return folder, os.path.join(folder, name, "encoder.onnx"), os.path.join(folder, name, "decoder.onnx")


def outputs(model, seed=0):
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, 256, 256, generator=gen)
    boxes = torch.tensor([[[10.0, 20.0, 120.0, 140.0], [0.0, 0.0, 255.0, 255.0], [50.0, 60.0, 53.0, 62.0]]])
    with torch.no_grad():
        embedding = model.encode(image)
        logits, iou = model.decode(embedding, boxes)
    return embedding, logits, iou


@pytest.mark.parametrize("float16", [False, True])
def test_the_imported_student_computes_what_the_onnx_expert_computes(tmp_path, float16):
    cfg = get_config("tiny")
    original = trained_looking_student(cfg)
    _, enc, dec = write_models_dir(str(tmp_path), original, float16=float16)
    imported = import_expert_onnx(enc, dec, cfg)
    a, b = outputs(original), outputs(imported)
    # float32 weights: only the BatchNorm folding's rounding; float16 storage rounds every weight to ~1e-3
    tolerance = 2e-2 if float16 else 1e-4
    for x, y in zip(a, b):
        assert torch.allclose(x, y, atol=tolerance * max(1.0, float(x.abs().max()))), float((x - y).abs().max())
    agreement = float(((a[1] > 0) == (b[1] > 0)).float().mean())
    assert agreement > (0.999 if float16 else 0.99999)
    # parameters that are not folded come back exactly as stored
    # (float16 storage only for tensors of FLOAT16_MIN_ELEMENTS values or more, as store_weights_float16 does)
    for name in ("mask_decoder.iou_token.weight", "mask_decoder.box_feature_proj.weight"):
        stored = original.get_parameter(name).detach().numpy()
        if float16 and stored.size >= FLOAT16_MIN_ELEMENTS:
            stored = stored.astype(np.float16).astype(np.float32)
        assert np.array_equal(imported.get_parameter(name).detach().numpy(), stored), name
    # BatchNorm: identity statistics, the folded scale sits in the convolution
    bn = next(m for m in imported.modules() if isinstance(m, nn.BatchNorm2d))
    assert torch.all(bn.running_mean == 0) and torch.all(bn.weight == 1)


def test_an_expert_of_another_architecture_is_refused_naming_the_file(tmp_path):
    _, enc, dec = write_models_dir(str(tmp_path), trained_looking_student(get_config("tiny")))
    with pytest.raises(ValueError, match="decoder.onnx|encoder.onnx"):
        import_expert_onnx(enc, dec, get_config("cpu"))


def test_a_damaged_onnx_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "encoder.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(ValueError, match="encoder.onnx: not a readable ONNX model"):
        read_initializers(str(bad))


def test_cli_writes_a_marked_checkpoint_and_finds_the_preset(tmp_path, capsys):
    folder, _, _ = write_models_dir(str(tmp_path), trained_looking_student(get_config("tiny")))
    out = str(tmp_path / "ckpt" / "general.pt")
    assert main(["import-onnx", "--models", folder, "-o", out, "--no-verify"]) == 0
    ckpt = torch.load(out, map_location="cpu", weights_only=True)  # loadable without the full unpickler
    assert ckpt["norm_stats"] == FOLDED and ckpt["config_name"] == "tiny" and ckpt["source"]["expert"] == "general"
    assert main(["import-onnx", "--models", folder, "--expert", "CT", "-o", out]) == 1
    assert "no expert named 'CT'" in capsys.readouterr().err


def test_a_run_from_an_imported_expert_trains_only_daft(tmp_path):
    cfg = get_config("tiny")
    folder, _, _ = write_models_dir(str(tmp_path), trained_looking_student(cfg))
    ckpt = str(tmp_path / "general.pt")
    import_checkpoint(folder, "general", ckpt, config="tiny", verify=False, log=lambda *_: None)
    data = synthetic.make_2d_regions(str(tmp_path / "data"), count=8)
    run_dir = str(tmp_path / "run")
    common = ["--datasets", data, "--config", "tiny", "--device", "cpu", "--workers", "1", "--init-checkpoint", ckpt]
    # DAFT may not re-estimate BatchNorm statistics that were folded away
    assert main(["run", "--out", str(tmp_path / "bad"), *common, "--set", "train.daft.freeze_norm_stats=false",
                 "--no-verify"]) == 1
    assert main(["run", "--out", run_dir, *common, "--set", "train.daft.epochs=1", "--no-verify"]) == 0
    stages = os.path.join(run_dir, "stages")
    assert not os.path.exists(os.path.join(stages, "teacher", "done.json"))
    assert not os.path.exists(os.path.join(stages, "distill", "done.json"))
    with open(os.path.join(stages, "general", "done.json")) as f:
        assert json.load(f)["norm_stats"] == FOLDED
    assert os.path.exists(os.path.join(stages, "daft", "CT", "done.json"))
    # the adopted general is the imported expert, unchanged
    adopted = torch.load(os.path.join(stages, "general", "best.pt"), map_location="cpu")["model"]
    imported = torch.load(ckpt, map_location="cpu")["model"]
    assert all(torch.equal(adopted[k], imported[k]) for k in imported)
    with open(os.path.join(run_dir, "selection.json")) as f:
        selection = json.load(f)
    assert "CT" in json.dumps(selection)
    assert os.path.exists(os.path.join(run_dir, "models", "manifest.json"))


def test_exporting_the_imported_student_again_gives_the_same_weights(tmp_path):
    """import then export is the identity on what ships: float16 weights, BatchNorm folded (the shipped CT
    expert came back byte for byte)."""
    cfg = get_config("tiny")
    _, enc, dec = write_models_dir(str(tmp_path / "a"), trained_looking_student(cfg))
    again_enc, again_dec = export_onnx(import_expert_onnx(enc, dec, cfg), str(tmp_path / "b"))
    for first, second in ((enc, again_enc), (dec, again_dec)):
        a, b = read_initializers(first), read_initializers(second)
        assert a.keys() == b.keys()
        assert all(np.array_equal(a[k], b[k]) for k in a), first
