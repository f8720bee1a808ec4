import numpy as np
import pytest
import torch

from daft_train.config import get_config
from daft_train.export.onnx_export import export_onnx, node_available, onnx_io_shapes, run_onnx_node
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
    enc, dec = export_onnx(tiny, str(tmp_path))
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
