"""Where training runs: the device, and the processes under ``torchrun``.

Under ``torchrun`` (env ``WORLD_SIZE`` > 1) every stage runs in DistributedDataParallel (gloo
on the CPU, nccl on CUDA); rank 0 decides when a stage ends (:func:`agree`, broadcast every
step), validates, logs and writes checkpoints and the model file. With one process every
helper here is a no-op.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..errors import TrainingOptionError

__all__ = ["Dist", "resolve_device", "init_distributed", "agree", "wrap", "unwrap", "log"]


@dataclass
class Dist:
    """This process's place among the training processes."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the process that decides, validates, logs and writes."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """More than one process."""
        return self.world > 1


def resolve_device(name: str) -> torch.device:
    """``--device`` ("auto", "cpu" or "cuda") → a torch device; auto prefers CUDA."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingOptionError("--device cuda: no CUDA device is available; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise TrainingOptionError(f"--device must be cpu, cuda or auto, got {name!r}")
    return torch.device(name)


def init_distributed(device: torch.device) -> Dist:
    """Join the process group ``torchrun`` set up (one process: nothing to join)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def agree(d: Dist, stop: bool, fraction: float, device: torch.device) -> tuple[bool, float]:
    """Rank 0's decision (stop?, budget fraction used) for every rank."""
    if not d.active:
        return stop, fraction
    t = torch.tensor([float(stop), fraction], dtype=torch.float64, device=device)
    dist.broadcast(t, src=0)
    return bool(t[0] > 0.5), float(t[1])


def wrap(m: nn.Module, d: Dist, device: torch.device) -> nn.Module:
    """``m`` in DistributedDataParallel when there are several processes, else ``m``."""
    if not d.active:
        return m
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(m, device_ids=ids)


def unwrap(m: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper (or ``m`` itself)."""
    return m.module if isinstance(m, nn.parallel.DistributedDataParallel) else m


def log(d: Dist, message: str) -> None:
    """A line on stderr, from rank 0 only."""
    if d.main:
        print(message, file=sys.stderr, flush=True)
