import os

import numpy as np
import pytest
import torch

from daft_train.config import get_config
import onnx
from onnx import TensorProto, helper, numpy_helper

from daft_train.export.onnx_export import (
    export_onnx,
    node_available,
    onnx_io_shapes,
    run_onnx_node,
    store_weights_float16,
)
from daft_train.models.macs import count_macs
from daft_train.models.sam import build_student, build_teacher, count_parameters


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return build_student(get_config("tiny").model).eval()


def test_shapes_and_state_dict_layout(tiny):
    images = torch.rand(2, 3, 256, 256)
    boxes = torch.tensor([[[10.0, 10.0, 100.0, 80.0], [0, 0, 255, 255], [5, 6, 7, 8]]]).repeat(2, 1, 1)
    emb = tiny.encode(images)
    assert list(emb.shape) == [2] + tiny.embedding_shape()
    logits, iou = tiny.decode(emb, boxes)
    assert logits.shape == (2, 3, 256, 256) and iou.shape == (2, 3)
    assert ((iou >= 0) & (iou <= 1)).all()
    prefixes = {k.split(".")[0] for k in tiny.state_dict()}
    assert prefixes == {"image_encoder", "prompt_encoder", "mask_decoder"}


def test_boxes_are_decoded_independently(tiny):
    emb = tiny.encode(torch.rand(1, 3, 256, 256))
    boxes = torch.tensor([[[10.0, 10.0, 100.0, 80.0], [50, 60, 200, 250], [5, 6, 7, 8]]])
    with torch.no_grad():
        together, iou_together = tiny.decode(emb, boxes)
        for i in range(3):
            alone, iou_alone = tiny.decode(emb, boxes[:, i : i + 1])
            torch.testing.assert_close(together[:, i : i + 1], alone, rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(iou_together[:, i : i + 1], iou_alone, rtol=1e-4, atol=1e-5)


def test_teacher_and_student_share_the_embedding_shape():
    for name in ("tiny", "cpu", "gpu"):
        cfg = get_config(name).model
        assert cfg.student.embed_dim == cfg.teacher.embed_dim


def test_gpu_student_budget():
    cfg = get_config("gpu").model
    student = build_student(cfg).eval()
    teacher = build_teacher(cfg)
    macs = count_macs(student.encode, torch.rand(1, 3, 256, 256))
    assert macs <= 1.0e9, f"student encoder {macs / 1e9:.2f} GMAC > 1"
    assert 3e6 < count_parameters(student) < 9e6
    assert count_parameters(teacher.image_encoder) > 2 * count_parameters(student.image_encoder)


def test_onnx_export_contract_and_dynamic_box_count(tiny, tmp_path):
    image = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        before = tiny.encode(image)
    enc, dec = export_onnx(tiny, str(tmp_path), float16_weights=False)
    # Exporting leaves the model as it was: still in eval mode, the same embedding.
    assert not any(m.training for m in tiny.modules())
    with torch.no_grad():
        torch.testing.assert_close(tiny.encode(image), before, rtol=0, atol=0)
    c, h, w = tiny.embedding_shape()
    assert onnx_io_shapes(enc) == {"image": [1, 3, 256, 256], "embedding": [1, c, h, w]}
    assert onnx_io_shapes(dec) == {"embedding": [1, c, h, w], "boxes": [1, "N", 4], "logits": [1, "N", 256, 256], "iou": [1, "N"]}
    if not node_available():
        pytest.skip("node not installed: onnxruntime-node comparison skipped")
    image = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        emb = tiny.encode(image)
    out, _ = run_onnx_node(enc, {"image": image.numpy()})
    assert np.abs(out["embedding"] - emb.numpy()).max() < 1e-4
    for n in (1, 7):
        boxes = torch.tensor(np.random.default_rng(n).uniform(0, 120, (1, n, 2)), dtype=torch.float32)
        boxes = torch.cat([boxes, boxes + 30], dim=-1)
        with torch.no_grad():
            logits, iou = tiny.decode(emb, boxes)
        got, _ = run_onnx_node(dec, {"embedding": emb.numpy(), "boxes": boxes.numpy()})
        assert got["logits"].shape == (1, n, 256, 256) and got["iou"].shape == (1, n)
        assert np.abs(got["logits"] - logits.numpy()).max() < 1e-3
        assert np.abs(got["iou"] - iou.numpy()).max() < 1e-4


def test_float16_weight_storage_converts_large_in_range_tensors_only(tmp_path):
    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(64, 64)).astype(np.float32)
    b1 = rng.normal(size=(64,)).astype(np.float32)
    w2 = (rng.normal(size=(64, 2)) * 1e5).astype(np.float32)  # beyond float16's range: stays float32
    small = rng.normal(size=(2,)).astype(np.float32)  # too small to be worth a Cast: stays float32
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["h1"]),
         helper.make_node("MatMul", ["h1", "w2"], ["h2"]), helper.make_node("Add", ["h2", "small"], ["y"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (small, "small"))])
    path = str(tmp_path / "m.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    assert store_weights_float16(path) == 2
    model = onnx.load(path)
    types = {i.name: i.data_type for i in model.graph.initializer}
    assert types == {"w1.float16": TensorProto.FLOAT16, "b1.float16": TensorProto.FLOAT16,
                     "w2": TensorProto.FLOAT, "small": TensorProto.FLOAT}
    assert [n.op_type for n in model.graph.node[:2]] == ["Cast", "Cast"]
    assert np.array_equal(numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "w1.float16")),
                          w1.astype(np.float16))
    if not node_available():
        pytest.skip("node not installed: onnxruntime-node run skipped")
    x = rng.normal(size=(1, 64)).astype(np.float32)
    got, _ = run_onnx_node(path, {"x": x})
    expected = (x @ w1.astype(np.float16).astype(np.float32) + b1.astype(np.float16).astype(np.float32)) @ w2 + small
    np.testing.assert_allclose(got["y"], expected, rtol=1e-4)


def test_exported_weights_are_float16_with_the_same_masks(tiny, tmp_path):
    enc32, dec32 = export_onnx(tiny, str(tmp_path / "fp32"), float16_weights=False)
    enc16, dec16 = export_onnx(tiny, str(tmp_path / "fp16"))
    for p32, p16 in ((enc32, enc16), (dec32, dec16)):
        assert os.path.getsize(p16) < os.path.getsize(p32)  # tiny: the graph's own bytes dominate
        assert onnx_io_shapes(p16) == onnx_io_shapes(p32)  # inputs and outputs stay float32, same dims
        model = onnx.load(p16)
        big_float32 = [i.name for i in model.graph.initializer
                       if i.data_type == TensorProto.FLOAT and np.prod(i.dims) >= 64]
        assert big_float32 == []
    if not node_available():
        pytest.skip("node not installed: onnxruntime-node comparison skipped")
    # The float16 files against the float32 ones (which match PyTorch: the test above), both in onnxruntime-node.
    image = np.random.default_rng(1).random((1, 3, 256, 256), dtype=np.float32)
    boxes = np.array([[[20.0, 30.0, 150.0, 160.0], [5.0, 5.0, 60.0, 40.0]]], np.float32)
    runs = {}
    for name, (enc, dec) in {"fp32": (enc32, dec32), "fp16": (enc16, dec16)}.items():
        emb, _ = run_onnx_node(enc, {"image": image})
        out, _ = run_onnx_node(dec, {"embedding": emb["embedding"], "boxes": boxes})
        runs[name] = (emb["embedding"], out["logits"])
    (emb32, logits32), (emb16, logits16) = runs["fp32"], runs["fp16"]
    assert np.abs(emb16 - emb32).max() <= 1e-2 * np.abs(emb32).max()
    assert np.abs(logits16 - logits32).max() <= 1e-2 * np.abs(logits32).max()
    assert np.mean((logits16 > 0) == (logits32 > 0)) > 0.999
