"""Multiply-accumulate counting by intercepting aten ops (convolution, mm, addmm, bmm, baddbmm).

Works on torch 1.13 and 2.x (TorchDispatchMode); element-wise ops, softmax and resizes are not counted.
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out


class MacCounter(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.by_op: dict[str, int] = defaultdict(int)

    @property
    def total(self) -> int:
        return sum(self.by_op.values())

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = getattr(func, "overloadpacket", None)
        if packet is aten.convolution:
            x, w = args[0], args[1]
            transposed = bool(args[6])
            groups = int(args[8])
            if transposed:  # every input element meets (out_channels/groups) * kernel weights
                self.by_op["conv_transpose"] += x.numel() * _prod(w.shape[1:])
            else:
                self.by_op["conv"] += out.numel() * (w.shape[1] * _prod(w.shape[2:]))
            del groups
        elif packet in (aten.mm, aten.addmm):
            a = args[0] if packet is aten.mm else args[1]
            self.by_op["matmul"] += out.numel() * a.shape[-1]
        elif packet in (aten.bmm, aten.baddbmm):
            a = args[0] if packet is aten.bmm else args[1]
            self.by_op["matmul"] += out.numel() * a.shape[-1]
        return out


def count_macs(fn, *inputs) -> int:
    with torch.no_grad(), MacCounter() as counter:
        fn(*inputs)
    return counter.total
