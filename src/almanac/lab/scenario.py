"""What a scenario is: a grid of configurations, a function that trains one of them, and what to measure.

A :class:`Scenario` is declarative: ``axes`` (name → values) span the grid of configurations, ``run`` trains one
configuration with one seed and returns its measurements, ``measures`` name the final numbers of the ranked table
(the first one ranks), ``curves`` the per-epoch series to plot (one panel per value of ``panel_axis``, if
given), and ``finding`` turns the measured
:class:`~almanac.lab.summary.Summary` into sentences. ``quick_axes`` and ``quick`` in the run make the small
version the tests use.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from almanac.lab.summary import Summary

__all__ = ["Curve", "Measure", "Scenario", "config_label"]


@dataclass(frozen=True)
class Measure:
    """A final number of every run: its key in ``result["final"]``, a label, which direction is better and the
    range it can take (its 95% intervals are clipped to it). A measure an almanac metric computes takes both from
    the metric's spec: :meth:`of_metric`.

    >>> Measure.of_metric("f1", "macro F1", key="macro_f1").bounds
    (0.0, 1.0)
    """

    key: str
    label: str
    higher_is_better: bool = True
    bounds: tuple[float, float] = (-math.inf, math.inf)

    @classmethod
    def of_metric(cls, metric: str, label: str, key: str | None = None) -> Measure:
        """The measure computed by the almanac metric ``metric`` (stored under ``key``, default the metric's name):
        direction and range from its spec."""
        from almanac import metrics

        spec = metrics.spec(metric)
        return cls(key or spec.name, label, spec.higher_is_better, tuple(map(float, spec.range)))


@dataclass(frozen=True)
class Curve:
    """A series of every run (``result["curves"][key]``), plotted against ``x_label`` with the seeds' spread."""

    key: str
    label: str
    x_label: str = "epoch"
    log_scale: bool = False
    diagonal: bool = False  # draw y = x (reliability diagrams)


def config_label(config: Mapping[str, Any], hidden: tuple[str, ...] = ()) -> str:
    """A short human label of a configuration: its values joined by `` · ``.

    >>> config_label({"activation": "gelu", "depth": 8})
    'gelu · depth 8'
    """
    parts = []
    for name, value in config.items():
        if name in hidden:
            continue
        parts.append(f"{name} {value}" if isinstance(value, (int, float)) else str(value))
    return " · ".join(parts)


@dataclass(frozen=True)
class Scenario:
    """One experiment of the lab. Instances are picklable, so worker processes receive them whole."""

    name: str
    title: str
    question: str
    axes: Mapping[str, tuple[Any, ...]]
    run: Callable[[Mapping[str, Any], int, bool], dict[str, Any]]
    measures: tuple[Measure, ...]
    curves: tuple[Curve, ...]
    finding: Callable[[Summary], list[str]]
    quick_axes: Mapping[str, tuple[Any, ...]] | None = None
    seeds: int = 3
    quick_seeds: int = 2
    version: int = 1
    fixed: Mapping[str, Any] = field(default_factory=dict)
    panel_axis: str | None = None

    def configs(self, quick: bool = False) -> list[dict[str, Any]]:
        """Every configuration of the grid, in a fixed order; ``fixed`` values are added to each."""
        axes = self.quick_axes if quick and self.quick_axes is not None else self.axes
        names = list(axes)
        return [{**dict(zip(names, values)), **self.fixed} for values in itertools.product(*axes.values())]

    def label(self, config: Mapping[str, Any]) -> str:
        """The label of ``config`` in tables and legends (fixed values left out)."""
        return config_label(config, hidden=tuple(self.fixed))

    @property
    def primary(self) -> Measure:
        return self.measures[0]

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """Measure key → the range it can take (for :class:`~almanac.lab.summary.Summary`)."""
        return {m.key: m.bounds for m in self.measures}
