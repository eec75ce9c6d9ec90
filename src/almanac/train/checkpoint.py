"""Checkpoints: model, optimizer, epoch, history and RNG states, written atomically and loaded safely.

:func:`save` writes with :func:`torch.save` to a temporary file that is fsynced and renamed over the old
checkpoint, so a crash at any moment leaves the previous complete checkpoint. :func:`load` uses
``torch.load(weights_only=True)``: a checkpoint holds tensors and plain containers only, never pickled code.

>>> import tempfile, pathlib, torch
>>> path = pathlib.Path(tempfile.mkdtemp()) / "checkpoint.pt"
>>> _ = save(path, {"epoch": 3, "weights": torch.ones(2)})
>>> load(path)["epoch"]
3
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from almanac.errors import ConfigError, problem
from almanac.train.files import atomic_write_bytes

__all__ = ["get_rng_state", "load", "save", "set_rng_state"]


def save(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors and plain containers) to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save` with ``weights_only=True`` (no code is unpickled)."""
    path = Path(path)
    if not path.is_file():
        raise problem(ConfigError, "checkpoint", "to be a file", repr(str(path)), "check the run directory")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # a foreign or corrupt file: say which and why, one line
        raise problem(ConfigError, "checkpoint", "to be an almanac checkpoint (tensors and plain containers)",
                      f"{type(exc).__name__} reading {path}", "start a new run or restore the file") from exc


def get_rng_state() -> dict[str, Any]:
    """The states of every random number generator a training step may draw from (torch, CUDA, NumPy, Python)."""
    # the legacy global NumPy generator is what user code and augmentations draw from, so it is saved too
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    version, internal, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states saved by :func:`get_rng_state`."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
