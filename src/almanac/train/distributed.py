"""Data-parallel runs under ``torchrun``: process group set-up and the few collectives the trainer needs.

``torchrun --nproc_per_node N -m almanac train ...`` starts N processes with ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` set; :func:`setup` joins them into one process group (gloo on CPU, NCCL on CUDA). Outside
torchrun every helper here acts as the single process of a world of one.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["active", "all_sum", "broadcast_object", "is_main", "launched_by_torchrun", "rank", "setup", "teardown",
           "world_size"]


def launched_by_torchrun() -> bool:
    """True when the environment of ``torchrun`` asks for more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def setup(device: str) -> torch.device:
    """Join the process group when launched by torchrun; return this process's device.

    ``device`` is ``"cpu"`` or ``"cuda"``; with CUDA each process takes the GPU of its ``LOCAL_RANK``.
    """
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    target = torch.device(device, local_rank) if device == "cuda" else torch.device(device)
    if launched_by_torchrun() and not dist.is_initialized():
        if device == "cuda":
            torch.cuda.set_device(target)
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
    return target


def teardown() -> None:
    """Leave the process group (after a barrier, so no rank exits while another still talks)."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """True on the process that writes files and prints (rank 0)."""
    return rank() == 0


def all_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum ``values`` over all ranks (returns ``values`` itself in a world of one)."""
    if active():
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
