"""Compute a LayerNorm2d's means over channels as 1x1 convolutions instead of ReduceMean.

The models' LayerNorm2d (the encoder's output norm, the decoder's shared feature maps) exports as two ReduceMean
nodes over the channel axis of an NCHW map. onnxruntime's native CPU kernel for that strided reduction took 17 % of
the shipped encoder's kernel time (``node bench/wasmOps.mjs``), while a 1x1 convolution with every weight
1/C is one small matrix product, which onnxruntime runs in its fast convolution path (native and WASM).

Where C is a power of two, the two give the same bits: each product x·2⁻ᵏ is exact, so the convolution's running
sum is the reduction's running sum scaled by 2⁻ᵏ, and scaling by a power of two commutes with rounding (both sum
the channels in order). The pass rewrites only those nodes, and ``optimize_zoo`` checks the outputs bit for bit
before it writes a file. Measured: an encoder call 0.83× and a (shape-folded) decoder call 0.92–0.96×
side by side (``bench/graphPair.mjs``; ``training/results/cpu-interim/32-optimized-graphs/``).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .shape_folding import node_attributes, static_shapes


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def channel_means_as_convolutions(model: onnx.ModelProto) -> int:
    """Rewrite ``model``'s ReduceMean nodes over axis 1 (keepdims, 4-D input, power-of-two channels) into 1x1
    convolutions with weights 1/C, in place; returns how many. Opset 17's ReduceMean takes its axes as an
    attribute; one that takes them as an input (opset 18) is left as it is."""
    channels = {name: dims[1] for name, dims in static_shapes(model).items() if len(dims) == 4}
    graph = model.graph
    rewritten, nodes = 0, []
    for node in graph.node:
        attrs = node_attributes(node)
        c = channels.get(node.input[0]) if node.input else None
        if (node.op_type == "ReduceMean" and len(node.input) == 1 and attrs.get("axes") == [1]
                and attrs.get("keepdims", 1) == 1 and c is not None and _is_power_of_two(c)):
            averaging = np.full((1, c, 1, 1), 1.0 / c, np.float32)
            weight = numpy_helper.from_array(averaging, f"{node.output[0]}.mean_weight")
            graph.initializer.append(weight)
            nodes.append(helper.make_node("Conv", [node.input[0], weight.name], list(node.output),
                                          name=f"{node.name or node.output[0]}.as_conv", kernel_shape=[1, 1]))
            rewritten += 1
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    return rewritten
