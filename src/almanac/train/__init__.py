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

from almanac.train import report
from almanac.train.data import DATASETS, Data, infer_task, load, load_csv
from almanac.train.history import History
from almanac.train.job import RunConfig, prepare, resume, run
from almanac.train.loop import evaluate, fit, predict
from almanac.train.models import cnn, mlp, unet

__all__ = [
    "DATASETS",
    "Data",
    "History",
    "RunConfig",
    "cnn",
    "evaluate",
    "fit",
    "infer_task",
    "load",
    "load_csv",
    "mlp",
    "predict",
    "prepare",
    "report",
    "resume",
    "run",
    "unet",
]
