"""Device, autocast and (optional) torchrun/DDP process-group handling.

Single process (CPU or one GPU) needs nothing; under ``torchrun --nproc_per_node=G`` the environment variables
WORLD_SIZE / RANK / LOCAL_RANK select the GPU, every rank trains on its shard of each epoch plan, gradients are
averaged by DistributedDataParallel and validation sums are all-reduced, so every rank takes the same
early-stopping decisions. Only rank 0 writes files.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Runtime:
    device: torch.device
    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def autocast(self):
        """bf16 autocast on CUDA; nothing on CPU."""
        if self.device.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def all_reduce_sum(self, values: list[float]) -> list[float]:
        if not self.distributed:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.tolist()

    def any_true(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any rank."""
        if not self.distributed:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def shard(self, items: list) -> list:
        return items[self.rank :: self.world] if self.distributed else items

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        if not self.distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)


def init_runtime(device: str = "auto", num_threads: int = 0) -> Runtime:
    if num_threads > 0:
        torch.set_num_threads(num_threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        rank = int(os.environ["RANK"])
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = torch.cuda.is_available() and device != "cpu"
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if use_cuda else "gloo")
        if use_cuda:
            torch.cuda.set_device(local_rank)
            _fast_cuda()
            return Runtime(torch.device("cuda", local_rank), rank, world)
        return Runtime(torch.device("cpu"), rank, world)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"--device must be cpu, cuda or auto, got {device!r}")
    if device == "cuda":
        _fast_cuda()
    return Runtime(torch.device(device))


def _fast_cuda() -> None:
    torch.backends.cudnn.benchmark = True  # fixed 256x256 inputs
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
