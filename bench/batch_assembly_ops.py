"""How many operators a training batch's assembly dispatches on the training device — on a GPU each non-view one is a
kernel launch or a host-to-device copy, which is what bounded it on the H200 (28.7 of a 72.8-ms step, GPU.md).
Counted on any machine: the SampleStore is put on PyTorch's 'meta' device (shapes, no data), and every operator
touching a meta tensor is counted while host-side work (random draws, boxes) is not (see DeviceOperatorCount for
what it cannot see). Zoomed crops are off: their per-crop path reads data on the host.

  PYTHONPATH=training /usr/bin/python3 bench/batch_assembly_ops.py --cache CACHE [--batch 32] [--boxes 8] [--batches 5]

CACHE: an unpacked GPU pack (`daft_train unpack`) or a run's cache root. To compare with another version of the
trainer, run it with PYTHONPATH pointing at that version's training/ (e.g. a `git worktree`).
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import daft_train.data.training_data as training_data

VIEW_OPS = ("view", "permute", "expand", "select", "slice", "unsqueeze", "reshape", "as_strided", "alias", "transpose",
            "detach", "squeeze", "unbind", "split", "lift_fresh")


class DeviceOperatorCount(TorchDispatchMode):
    """Operators touching a meta tensor, by name; ``host_to_device``: the copies among them from a CPU tensor.
    ``torch.tensor(data, device=...)`` copies without dispatching an operator this mode sees: code that makes its
    device tensors that way (the trainer before git b83076d) is undercounted, its copies most of all."""

    def __init__(self):
        super().__init__()
        self.ops: dict[str, int] = {}
        self.host_to_device = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = [t for t in tree_flatten((args, kwargs or {}))[0] if isinstance(t, torch.Tensor)]
        outputs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        if any(t.device.type == "meta" for t in inputs + outputs):
            name = func.overloadpacket.__name__
            self.ops[name] = self.ops.get(name, 0) + 1
            if name in ("_to_copy", "copy_") and any(t.device.type == "cpu" for t in inputs):
                self.host_to_device += 1
        return out


_POWERS: dict[str, torch.Tensor] = {}


def unpack_masks_meta(packed: torch.Tensor) -> torch.Tensor:
    """training_data.unpack_masks with the same operators (a shift, an and) in ones the meta device implements."""
    key = str(packed.device)
    if key not in _POWERS:
        _POWERS[key] = (2 ** torch.arange(7, -1, -1)).to(torch.uint8).to(packed.device)
    bits = torch.remainder(torch.div(packed.unsqueeze(-1), _POWERS[key], rounding_mode="floor"), 2)
    return bits.reshape(packed.shape[0], packed.shape[1], packed.shape[2] * 8).bool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--boxes", type=int, default=8)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    training_data.unpack_masks = unpack_masks_meta
    dirs = sorted(os.path.join(args.cache, d) for d in os.listdir(args.cache) if os.path.isfile(os.path.join(args.cache, d, "meta.json")))
    store = training_data.SampleStore(dirs, "train", 0, torch.device("meta"))
    plan = store.epoch_plan(np.random.default_rng(0), args.boxes, False)
    generator = torch.Generator().manual_seed(0)
    totals, launches, copies = [], [], []
    for b in range(args.batches):
        count = DeviceOperatorCount()
        with count:
            store.make_batch(plan[b * args.batch : (b + 1) * args.batch], args.boxes, generator, augment=True, jitter_px=5,
                             zoom_probability=0.0, propagation_probability=1.0, intensity_probability=0.5)
        totals.append(sum(count.ops.values()))
        launches.append(sum(n for op, n in count.ops.items() if not any(v in op for v in VIEW_OPS)))
        copies.append(count.host_to_device)
    print(json.dumps({"trainer": os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(training_data.__file__)))),
                      "batch_images": args.batch, "boxes": args.boxes, "batches": args.batches,
                      "device_ops_per_batch": float(np.median(totals)), "non_view_ops_per_batch": float(np.median(launches)),
                      "host_to_device_copies_per_batch": float(np.median(copies))}))


if __name__ == "__main__":
    main()
