"""How a metric behaves as predictions get worse: the figure of a metric's page (``almanac explain`` describes
metrics but draws nothing for them).

The x-axis is the quality ``q`` of synthetic predictions, from 1 (perfect) to 0 (chance), on a fixed seed: each
label is replaced, with probability ``1 − q``, by a guess drawn at the base rate; scores are
``sigmoid(4q·(2y − 1) + noise)``; regression predictions are ``q·y + (1 − q)·mean·exp(noise / 2)`` (positive, so
the log errors are defined). Binary metrics are drawn twice, on balanced classes and on 5%
positives, where accuracy stays high at chance while F1 and average precision fall to the base rate (ROC AUC
does not depend on it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from almanac.errors import UndefinedMetricError
from almanac.registry import MetricSpec

__all__ = ["metric_behaviour"]

_N = 4000
_QUALITY = np.linspace(1.0, 0.0, 21)


def _predictions(spec: MetricSpec, y: np.ndarray, q: float, rng: np.random.Generator) -> np.ndarray:
    if spec.needs == "labels":  # each label replaced, with probability 1 - q, by a guess at the base rate
        guess = (rng.random(len(y)) < y.mean()).astype(y.dtype)
        return np.where(rng.random(len(y)) < 1 - q, guess, y)
    z = 4 * q * (2 * y - 1) + rng.normal(size=len(y))
    return 1 / (1 + np.exp(-z))


def _curve(spec: MetricSpec, function, y: np.ndarray, make) -> list[float] | None:
    values = []
    for q in _QUALITY:
        rng = np.random.default_rng(1)
        try:
            value = function(make(q, rng), y)
        except UndefinedMetricError:  # a chance-level prediction with no positive left, say
            value = float("nan")
        if not isinstance(value, float):  # curves and confusion matrices are not one number
            return None
        values.append(value)
    return values


def metric_behaviour(spec: MetricSpec, function, out: Path) -> Path | None:
    """Draw ``spec``'s value against prediction quality to ``out``; None for metrics that are not one number of
    binary or regression predictions."""
    rng = np.random.default_rng(0)
    lines: dict[str, list[float]] = {}
    if "regression" in spec.tasks:
        y = rng.uniform(1.0, 5.0, _N)  # positive, away from zero: MAPE and the log errors are defined
        noise = np.random.default_rng(2).normal(size=_N)
        curve = _curve(spec, function, y, lambda q, _: q * y + (1 - q) * y.mean() * np.exp(0.5 * noise))
        if curve is not None:
            lines["targets uniform in [1, 5]"] = curve
    elif "binary" in spec.tasks:
        for share in (0.5, 0.05):
            y = (rng.random(_N) < share).astype(np.int64)
            curve = _curve(spec, function, y, lambda q, r, y=y: _predictions(spec, y, q, r))
            if curve is None:
                return None
            lines[f"{share:.0%} positives"] = curve
    if not lines:
        return None
    from almanac.train.report import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, values in lines.items():
        ax.plot(_QUALITY, values, marker="o", ms=3, label=label)
    ax.invert_xaxis()
    ax.set_xlabel("prediction quality (1 = perfect, 0 = chance)")
    ax.set_ylabel(spec.name)
    ax.set_title(f"{spec.name} as predictions get worse ({'higher' if spec.higher_is_better else 'lower'} is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out)
    return out
