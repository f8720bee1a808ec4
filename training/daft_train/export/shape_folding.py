"""Fold an exported graph's shape arithmetic into constants, leaving only what depends on a dynamic dimension.

torch.onnx's tracer records every read of ``tensor.shape`` as graph operations (Shape → Gather → Unsqueeze →
Concat → Reshape). When the graph has one dynamic dimension — the decoder's box count N — onnxruntime folds none
of them (it folds a Shape only when the whole shape is static), so the shipped decoders carried ~1,000 such nodes
of their 1,613 and ran them on every call. Most of them read dimensions that are static (channels, heads, the
token grid, even the batch of 1): this pass follows the shapes that ONNX shape inference knows, dimension by
dimension, and

- replaces every shape value it can compute in full by a constant (its nodes go);
- gives a Reshape whose target is known but for one dimension that dimension as -1 (the same shape: the other
  dimensions are known and positive), so the Shape → … → Concat chain feeding it goes too;
- drops the nodes nothing uses any more.

Only shape values change, never arithmetic on data: onnxruntime-node gives the same logits bit for bit (checked
by ``optimize_graphs.optimize_zoo`` before it writes a file). Measured on the shipped decoders: 1,613 → 566 nodes
(584 → 339 after onnxruntime's own optimisation), a call 0.88–0.90× and its session 0.67–0.69× the time side by
side (``bench/graphPair.mjs``; ``training/results/cpu-interim/32-optimized-graphs/``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

Dims = list  # a 1-D int64 value known dimension by dimension: int, or None where unknown

# Integer arithmetic on shape values (the tracer's ``x.shape[2] // 2``, ``h * w``).
_ARITHMETIC = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.floor_divide}


@dataclass
class FoldReport:
    nodes_before: int
    nodes_after: int
    constants: int  # shape values replaced by constants
    reshapes: int  # Reshape targets given a -1

    def __str__(self) -> str:
        return (f"{self.nodes_before} → {self.nodes_after} nodes ({self.constants} shape values folded, "
                f"{self.reshapes} reshape targets with -1)")


def static_shapes(model: onnx.ModelProto) -> dict[str, list]:
    """name → dims (int, or None for a dynamic or unknown dimension) of every tensor whose rank inference knows."""
    graph = onnx.shape_inference.infer_shapes(model, data_prop=True).graph
    shapes = {}
    for value in list(graph.input) + list(graph.value_info) + list(graph.output):
        tensor = value.type.tensor_type
        if tensor.HasField("shape"):
            shapes[value.name] = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    for init in graph.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def node_attributes(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class _ShapeValues:
    """What is known of the graph's small integer tensors: constants in full, 1-D shape vectors per element."""

    def __init__(self, graph: onnx.GraphProto, shapes: dict[str, list]):
        self.shapes = shapes
        self.constants: dict[str, np.ndarray] = {
            i.name: numpy_helper.to_array(i) for i in graph.initializer if i.data_type == TensorProto.INT64}
        self.partial: dict[str, Dims] = {}

    def vector(self, name: str) -> Dims | None:
        """The 1-D value of ``name`` element by element, as far as known; None if not a 1-D vector of known length."""
        if name in self.constants:
            value = self.constants[name]
            return [int(v) for v in value.reshape(-1)] if value.ndim == 1 else None
        if name in self.partial:
            return self.partial[name]
        shape = self.shapes.get(name)
        return [None] * shape[0] if shape is not None and len(shape) == 1 and shape[0] is not None else None

    def record(self, name: str, value: Dims) -> None:
        if all(v is not None for v in value):
            self.constants[name] = np.array(value, np.int64)
        else:
            self.partial[name] = value

    def visit(self, node: onnx.NodeProto) -> None:
        """Learn what ``node`` computes, where it only moves shape values around."""
        op, ins, attrs = node.op_type, list(node.input), node_attributes(node)
        out = node.output[0] if len(node.output) == 1 else None
        if out is None:
            return
        if op == "Constant" and "value" in attrs:
            value = numpy_helper.to_array(attrs["value"])
            if value.dtype == np.int64:
                self.constants[out] = value
        elif op == "Shape" and ins[0] in self.shapes:
            dims = self.shapes[ins[0]]
            start, end = attrs.get("start", 0), attrs.get("end", len(dims))
            self.record(out, dims[start:end])
        elif op == "Gather" and attrs.get("axis", 0) == 0 and ins[1] in self.constants:
            source, index = self.vector(ins[0]), self.constants[ins[1]]
            if source is not None and all(-len(source) <= int(i) < len(source) for i in index.reshape(-1)):
                picked = [source[int(i)] for i in index.reshape(-1)]
                if index.ndim == 0:
                    if picked[0] is not None:
                        self.constants[out] = np.array(picked[0], np.int64)
                else:
                    self.record(out, picked)
        elif op == "Unsqueeze" and self.shapes.get(ins[0]) == []:  # a scalar → a vector of one
            if ins[0] in self.constants:
                self.constants[out] = self.constants[ins[0]].reshape(1)
            else:
                self.partial[out] = [None]
        elif op in _ARITHMETIC and all(i in self.constants for i in ins):
            a, b = (self.constants[i] for i in ins)
            if op != "Div" or (np.all(a >= 0) and np.all(b > 0)):  # ONNX truncates; floor agrees for these
                self.constants[out] = _ARITHMETIC[op](a, b).astype(np.int64)
        elif op == "Concat" and attrs.get("axis") == 0:
            parts = [self.vector(i) for i in ins]
            if all(p is not None for p in parts):
                self.record(out, [v for p in parts for v in p])


def fold_static_shapes(model: onnx.ModelProto) -> FoldReport:
    """Fold ``model``'s static shape arithmetic in place (see the module comment); returns what changed. A graph
    with subgraphs (If, Loop) is left as it is."""
    graph = model.graph
    before = len(graph.node)
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in graph.node for a in n.attribute):
        return FoldReport(before, before, 0, 0)
    known = _ShapeValues(graph, static_shapes(model))
    outputs = {o.name for o in graph.output}
    existing = {i.name for i in graph.initializer}
    kept, new_constants, reshapes = [], {}, 0
    for node in graph.node:
        known.visit(node)
        produced = list(node.output)
        if node.op_type != "Constant" and produced and all(o in known.constants and o not in outputs for o in produced):
            for o in produced:
                new_constants[o] = known.constants[o]
            continue
        if node.op_type == "Reshape" and node.input[1] in known.partial:
            target = known.partial[node.input[1]]
            unknown = [i for i, v in enumerate(target) if v is None]
            if len(unknown) == 1 and all(v is None or v > 0 for v in target):
                static = [-1 if v is None else v for v in target]
                name = f"{node.input[1]}.folded"
                new_constants[name] = np.array(static, np.int64)
                node.input[1] = name
                reshapes += 1
        kept.append(node)
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in new_constants.items() if k not in existing)
    _drop_unused(graph, kept)
    folded = sum(1 for k in new_constants if not k.endswith(".folded"))
    return FoldReport(before, len(graph.node), folded, reshapes)


def _drop_unused(graph: onnx.GraphProto, nodes: list) -> None:
    """Keep the nodes and initializers the graph's outputs depend on."""
    needed = {o.name for o in graph.output}
    alive = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            alive.append(node)
            needed.update(i for i in node.input if i)
    alive.reverse()
    del graph.node[:]
    graph.node.extend(alive)
    initializers = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
