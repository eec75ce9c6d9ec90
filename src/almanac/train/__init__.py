"""The trainer: datasets, model builders, the training loop, checkpoints and reports.

``almanac train`` is a thin layer over :func:`fit`, which trains any ``nn.Module``.
"""

from __future__ import annotations

from almanac.train import report
from almanac.train.data import DATASETS, Data, infer_task, load, load_csv
from almanac.train.history import History
from almanac.train.loop import evaluate, fit, predict

__all__ = ["DATASETS", "Data", "History", "evaluate", "fit", "infer_task", "load", "load_csv", "predict", "report"]
