"""A tracker of each epoch's metric values that says which epoch was best (torchmetrics' ``MetricTracker``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from almanac.errors import ConfigError, UndefinedMetricError, problem
from almanac.metrics._metric import Metric, MetricCollection

__all__ = ["MetricTracker"]


def _number(value: Any) -> float | None:
    """A scalar as a float; None for per-class values (they have no single best)."""
    v = value.detach().cpu() if isinstance(value, torch.Tensor) else np.asarray(value)
    return float(v) if v.ndim == 0 else None


class MetricTracker:
    """Each epoch's values of a metric or collection, and the best epoch of each by its spec's ``higher_is_better``.

    Update the wrapped metric (``tracker.update(preds, target)`` or ``tracker.metric.update``) during an epoch,
    then ``end_epoch()``: it computes the values, keeps them, resets the metric and returns them.

    >>> import almanac as am
    >>> tracker = am.metrics.MetricTracker(am.metrics.collection(["accuracy", "log_loss"]))
    >>> for p in ([0.9, 0.2, 0.4], [0.8, 0.3, 0.7]):
    ...     tracker.update(p, [1, 0, 1])
    ...     _ = tracker.end_epoch()
    >>> tracker.best()["accuracy"], tracker.best()["log_loss"][0]
    ((1, 1.0), 1)
    """

    def __init__(self, metric: Metric | MetricCollection) -> None:
        if not isinstance(metric, (Metric, MetricCollection)):
            raise problem(ConfigError, "metric", "to be a streaming metric or a collection", type(metric).__name__,
                          "pass am.metrics.get(name) or am.metrics.collection([...])")
        self.metric = metric
        self.history: list[dict[str, Any]] = []
        self._higher: dict[str, bool] = {}

    def update(self, preds: Any, target: Any, **kwargs: Any) -> None:
        """Add a batch to this epoch's metric."""
        self.metric.update(preds, target, **kwargs)

    def end_epoch(self) -> dict[str, Any]:
        """Compute this epoch's values (dict name → value), keep them, reset the metric and return them."""
        if isinstance(self.metric, Metric):
            items = [(self.metric.spec.name, {self.metric.spec.name: self.metric.compute()}, self.metric)]
        else:
            items = [(n, self.metric._named(n, m.compute()), m) for n, m in self.metric.metrics.items()]
        values: dict[str, Any] = {}
        for _, named, m in items:
            for key, value in named.items():
                values[key] = value
                self._higher[key] = m.spec.higher_is_better
        self.history.append(values)
        self.metric.reset()
        return values

    def best(self) -> dict[str, tuple[int, float]]:
        """``name → (epoch, value)`` of the best epoch of each scalar value (highest, or lowest for metrics whose
        spec says ``higher_is_better=False``); the first such epoch on ties."""
        if not self.history:
            raise UndefinedMetricError("the tracker has no epoch yet — call end_epoch() after an epoch's updates")
        out: dict[str, tuple[int, float]] = {}
        for key in self.history[-1]:
            series = [(i, _number(h[key])) for i, h in enumerate(self.history) if key in h]
            series = [(i, v) for i, v in series if v is not None and not np.isnan(v)]
            if series:
                sign = 1.0 if self._higher[key] else -1.0
                out[key] = max(series, key=lambda iv: (sign * iv[1], -iv[0]))
        return out
