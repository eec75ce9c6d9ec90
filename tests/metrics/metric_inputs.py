"""Inputs for registry-driven metric tests, read from each metric's spec (tasks, needs, params).

``cases()`` lists one (name, task) pair per metric and task it supports; ``make(name, task, n, seed)`` draws a
random batch fitting them, with the keywords that pin the task (so every part of a split stream is read alike).
Scores are drawn on a coarse grid, so ties are common.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import almanac as am
from almanac.errors import UndefinedMetricError
from almanac.metrics._registry import REGISTRY

C = 3  # classes (multiclass) and labels (multilabel)
TASK_OF = {"segmentation": "binary"}  # tasks read as one of the format's tasks


def cases() -> list[tuple[str, str]]:
    out = []
    for name in am.metrics.names():
        tasks = dict.fromkeys(TASK_OF.get(t, t) for t in am.metrics.spec(name).tasks)
        out.extend((name, task) for task in tasks)
    return out


def keywords(name: str, task: str) -> dict[str, Any]:
    params = am.metrics.spec(name).params
    kw: dict[str, Any] = {}
    if "task" in params:
        kw["task"] = task
    if task == "multiclass" and "num_classes" in params:
        kw["num_classes"] = C
    if task == "multilabel" and "num_labels" in params:
        kw["num_labels"] = C
    return kw


def make(name: str, task: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random (preds, target) batch of ``n`` samples for metric ``name`` on ``task``."""
    rng = np.random.default_rng(seed)
    if task == "regression":
        target = rng.gamma(2.0, 1.0, n).round(1)
        return (target + rng.normal(0, 1, n)).clip(0, None), target
    labels = am.metrics.spec(name).needs == "labels"
    if task == "binary":
        target = rng.integers(0, 2, n)
        return (rng.integers(0, 2, n) if labels else rng.integers(0, 11, n) / 10), target
    if task == "multiclass":
        target = rng.integers(0, C, n)
        if labels:
            return rng.integers(0, C, n), target
        scores = rng.integers(1, 6, (n, C)).astype(np.float64)
        return scores / scores.sum(1, keepdims=True), target
    target = rng.integers(0, 2, (n, C))
    return (rng.integers(0, 2, (n, C)) if labels else rng.integers(0, 11, (n, C)) / 10), target


def leaves(value: Any) -> list[Any]:
    """The scalars / arrays / tensors of a result, flattening tuples and lists (curves, per-class curves)."""
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def function(name: str) -> Any:
    """The pure function of metric ``name``."""
    return REGISTRY.function(name)


def value_or_error(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``, or the UndefinedMetricError type when the metric is undefined on these inputs."""
    try:
        return fn(*args, **kwargs)
    except UndefinedMetricError:
        return UndefinedMetricError


def assert_close(a: Any, b: Any, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """Equal results: floats, tensors, arrays, tuples of them; nan equals nan; errors by type."""
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            assert_close(x, y, rtol, atol)
        return
    if a is UndefinedMetricError or b is UndefinedMetricError:
        assert a is b, (a, b)
        return
    a = a.detach().cpu().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=np.float64)
    b = b.detach().cpu().double().numpy() if isinstance(b, torch.Tensor) else np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
