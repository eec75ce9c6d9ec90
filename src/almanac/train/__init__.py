"""The trainer: datasets, model builders, the training loop, checkpoints and reports.

``almanac train`` is a thin layer over :func:`fit`.
"""

from __future__ import annotations

from almanac.train import report

__all__ = ["report"]
