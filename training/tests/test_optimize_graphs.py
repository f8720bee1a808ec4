"""optimize-graphs: static shape arithmetic becomes constants, channel means become convolutions; the outputs stay
bit for bit the same."""

import json
import os

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

import daft_train.export.onnx_export as onnx_export
from daft_train.cli import main
from daft_train.config import get_config
from daft_train.data.cache import sha256_file
from daft_train.export.manifest import load_manifest
from daft_train.export.onnx_export import node_available, run_onnx_node
from daft_train.export.channel_means import channel_means_as_convolutions
from daft_train.export.optimize_graphs import optimize_zoo
from daft_train.export.shape_folding import fold_static_shapes
from daft_train.models.sam import build_student
from zoo import write_zoo

needs_node = pytest.mark.skipif(not node_available(), reason="node (onnxruntime-node) not installed")


def traced_reshape_graph() -> onnx.ModelProto:
    """What the tracer writes for ``x.reshape(x.shape[0], x.shape[1], 2, x.shape[2] // 2)`` on x [1, N, 8], and
    for ``y.reshape(y.shape[1], -1)`` (two dims it cannot know: N and the -1)."""
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        *[helper.make_node("Gather", ["s", f"i{k}"], [f"d{k}"], axis=0) for k in range(3)],
        helper.make_node("Div", ["d2", "two"], ["half"]),
        helper.make_node("Unsqueeze", ["d0", "axes"], ["u0"]),
        helper.make_node("Unsqueeze", ["d1", "axes"], ["u1"]),
        helper.make_node("Unsqueeze", ["half", "axes"], ["u2"]),
        helper.make_node("Concat", ["u0", "u1", "two1", "u2"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
        helper.make_node("Concat", ["u1", "minus1"], ["target2"], axis=0),
        helper.make_node("Reshape", ["y", "target2"], ["z"]),
    ]
    graph = helper.make_graph(
        nodes, "traced",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "N", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "N", 2, 4]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 8])],
        [i64("i0", 0), i64("i1", 1), i64("i2", 2), i64("two", 2), i64("axes", [0]), i64("two1", [2]),
         i64("minus1", [-1])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_static_dims_become_constants_and_a_reshape_gets_its_one_unknown_as_minus_one():
    model = traced_reshape_graph()
    report = fold_static_shapes(model)
    onnx.checker.check_model(model)
    ops = [n.op_type for n in model.graph.node]
    # the first Reshape's target was [1, N, 2, 4]: now the constant [1, -1, 2, 4], its chain gone
    first = next(n for n in model.graph.node if n.output[0] == "y")
    target = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}[first.input[1]]
    assert target.tolist() == [1, -1, 2, 4]
    # the second keeps its computed target ([N, -1]: two unknowns), so the Shape → Gather → Unsqueeze of N stays
    assert ops.count("Reshape") == 2 and "Div" not in ops and ops.count("Shape") == 1
    assert report.reshapes == 1 and report.constants >= 3 and report.nodes_after < report.nodes_before
    assert fold_static_shapes(model).constants == 0  # a second pass finds nothing more


@needs_node
def test_the_folded_toy_graph_computes_the_same(tmp_path):
    path, folded = str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx")
    onnx.save(traced_reshape_graph(), path)
    model = traced_reshape_graph()
    fold_static_shapes(model)
    onnx.save(model, folded)
    x = np.arange(5 * 8, dtype=np.float32).reshape(1, 5, 8)
    a, _ = run_onnx_node(path, {"x": x}, threads=1)
    b, _ = run_onnx_node(folded, {"x": x}, threads=1)
    assert a["y"].shape == b["y"].shape == (1, 5, 2, 4) and np.array_equal(a["z"], b["z"])


def test_an_exported_decoder_reads_shapes_only_of_tensors_with_the_box_count(tmp_path):
    torch.manual_seed(0)
    _, dec = onnx_export.export_onnx(build_student(get_config("tiny").model).eval(), str(tmp_path))
    model = onnx.load(dec)
    shapes = {v.name: v for v in onnx.shape_inference.infer_shapes(model, data_prop=True).graph.value_info}
    shapes.update({v.name: v for v in model.graph.input})
    for node in (n for n in model.graph.node if n.op_type == "Shape"):
        dims = shapes[node.input[0]].type.tensor_type.shape.dim
        assert any(not d.HasField("dim_value") for d in dims), f"{node.name} reads a static shape"
    assert fold_static_shapes(model).constants == 0


def layer_norm_means_graph(channels: int) -> onnx.ModelProto:
    """LayerNorm2d's two means over channels, as the exporter writes them: mean(x) and mean((x - mean(x))²)."""
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["x", "mean"], ["centred"]),
        helper.make_node("Mul", ["centred", "centred"], ["squared"]),
        helper.make_node("ReduceMean", ["squared"], ["variance"], axes=[1], keepdims=1),
        helper.make_node("ReduceMean", ["x"], ["spatial"], axes=[2, 3], keepdims=1),  # not over channels: kept
    ]
    graph = helper.make_graph(
        nodes, "norm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 5, 7])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in
         (("variance", [1, 1, 5, 7]), ("spatial", [1, channels, 1, 1]))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_channel_means_become_convolutions_only_for_power_of_two_channels():
    model = layer_norm_means_graph(8)
    assert channel_means_as_convolutions(model) == 2
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ["Conv", "Sub", "Mul", "Conv", "ReduceMean"]
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert all(w.shape == (1, 8, 1, 1) and np.all(w == 0.125) for w in weights.values())
    assert channel_means_as_convolutions(layer_norm_means_graph(6)) == 0  # 1/6 is not exact: the bits could move


@needs_node
def test_channel_means_as_convolutions_give_the_same_bits(tmp_path):
    path, rewritten = str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx")
    onnx.save(layer_norm_means_graph(32), path)
    model = layer_norm_means_graph(32)
    channel_means_as_convolutions(model)
    onnx.save(model, rewritten)
    x = np.random.default_rng(3).standard_normal((1, 32, 5, 7)).astype(np.float32) * 50
    a, _ = run_onnx_node(path, {"x": x}, threads=1)
    b, _ = run_onnx_node(rewritten, {"x": x}, threads=1)
    assert np.array_equal(a["variance"], b["variance"]) and np.array_equal(a["spatial"], b["spatial"])


@pytest.fixture
def unoptimized_zoo(tmp_path, monkeypatch):
    """A zoo exported as before these passes existed (the exporter's optimisation switched off)."""
    monkeypatch.setattr(onnx_export, "optimize_file", lambda path: None)
    torch.manual_seed(1)
    models = {name: (folder, build_student(get_config("tiny").model).eval())
              for name, folder in {"general": "distill", "CT": "daft-CT"}.items()}
    root = write_zoo(str(tmp_path / "zoo"), models, "v", selector=True)
    with open(os.path.join(root, "export_report.json"), "w") as f:
        json.dump({"experts": {}}, f)
    monkeypatch.undo()
    return root


@needs_node
def test_optimize_zoo_publishes_smaller_graphs_with_identical_outputs_and_new_digests(unoptimized_zoo, tmp_path):
    out = str(tmp_path / "optimized")
    records = optimize_zoo(unoptimized_zoo, out, log=lambda *_: None)  # raises if any output differed
    by_file = {r["file"]: r for r in records}
    assert sorted(by_file) == ["daft-CT/decoder.onnx", "daft-CT/encoder.onnx", "distill/decoder.onnx",
                               "distill/encoder.onnx"]
    for name in ("daft-CT/decoder.onnx", "distill/decoder.onnx"):
        assert by_file[name]["nodes_after"] < by_file[name]["nodes_before"]
        assert by_file[name]["channel_means"] == 4  # the two LayerNorm2d of the shared feature maps
    assert by_file["distill/encoder.onnx"]["channel_means"] == 2  # the encoder's output norm
    manifest = load_manifest(os.path.join(out, "manifest.json"))
    for entry in manifest["experts"]:
        for part in ("encoder", "decoder"):
            digest = sha256_file(os.path.join(out, entry[part]["file"]))
            assert digest == entry[part]["sha256"]  # the manifest names the new file
            assert digest != sha256_file(os.path.join(unoptimized_zoo, entry[part]["file"]))  # which did change
    assert os.path.exists(os.path.join(out, "selector.json"))
    with open(os.path.join(out, "export_report.json")) as f:
        assert len(json.load(f)["optimized_graphs"]) == 4


def test_cli_optimizes_in_place_and_reports_a_missing_manifest_in_one_line(unoptimized_zoo, tmp_path, capsys):
    before = sha256_file(os.path.join(unoptimized_zoo, "distill", "decoder.onnx"))
    assert main(["optimize-graphs", "--models", unoptimized_zoo, "--no-verify"]) == 0
    assert sha256_file(os.path.join(unoptimized_zoo, "distill", "decoder.onnx")) != before
    load_manifest(os.path.join(unoptimized_zoo, "manifest.json"))
    assert main(["optimize-graphs", "--models", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere" in err[0]
