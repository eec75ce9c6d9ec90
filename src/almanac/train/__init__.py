"""The trainer: datasets, model builders, the training loop, checkpoints and reports.

``almanac train`` is a thin layer over :func:`fit`, which trains any ``nn.Module``; :func:`mlp`, :func:`cnn` and
:func:`unet` build models from activation names.

>>> import almanac as am
>>> data = am.train.load("iris")
>>> model = am.train.mlp(4, 3, hidden=(16,), activation="gelu")
>>> history = am.train.fit(model, am.losses.get("cross_entropy"), (data.x_train, data.y_train),
...                        (data.x_val, data.y_val), metrics=["accuracy"],
...                        metric_params={"task": "multiclass", "num_classes": 3}, output="softmax", epochs=3)
>>> history.column("epoch")
[1, 2, 3]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from almanac.train import report
from almanac.train.data import DATASETS, Data, infer_task, load_csv, read_table
from almanac.train.history import History
from almanac.train.inference import Predictor, load_run
from almanac.train.job import RunConfig, prepare, resume, run
from almanac.train.loop import evaluate, fit, predict
from almanac.train.models import cnn, mlp, unet

__all__ = [
    "DATASETS",
    "Data",
    "History",
    "Predictor",
    "RunConfig",
    "cnn",
    "evaluate",
    "fit",
    "infer_task",
    "load",
    "load_csv",
    "load_run",
    "mlp",
    "predict",
    "prepare",
    "read_table",
    "report",
    "resume",
    "run",
    "unet",
]


def load(source: str | os.PathLike[str], *, seed: int = 0, val_fraction: float = 0.2) -> Any:
    """A bundled dataset by name (a :class:`Data`, see :data:`DATASETS`), or a trained run directory (a
    :class:`Predictor` with its preprocessing and the best epoch's weights, see :func:`load_run`)."""
    from almanac.train import data

    if isinstance(source, os.PathLike) or (Path(source) / "config.json").is_file():
        return load_run(source)
    return data.load(source, seed=seed, val_fraction=val_fraction)
