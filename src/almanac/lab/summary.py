"""The measured numbers of a sweep, grouped by configuration: mean, spread and 95% t-interval across seeds, and
comparisons paired by seed (:mod:`almanac.lab.stats`).

>>> from almanac.lab.store import Run
>>> runs = [Run(str(s), "demo", {"loss": "mae"}, s, True, {"final": {"r2": v}, "curves": {"r2": [0.1, v]}})
...         for s, v in enumerate([0.8, 0.9])]
>>> summary = Summary.from_runs(runs)
>>> [group] = summary.where(loss="mae")
>>> round(group.mean("r2"), 3), round(group.std("r2"), 4), len(group.runs)
(0.85, 0.0707, 2)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from almanac.lab.stats import UNBOUNDED, Bounds, Interval, Paired, interval, paired
from almanac.lab.store import Run

__all__ = ["Group", "Summary"]


def _key(config: Mapping[str, Any]) -> str:
    return json.dumps(dict(config), sort_keys=True)


@dataclass(frozen=True)
class Group:
    """The runs of one configuration (one per seed)."""

    config: Mapping[str, Any]
    runs: tuple[Run, ...]
    bounds: Mapping[str, Bounds] = field(default_factory=dict)  # measure → its range; intervals are clipped to it

    def values(self, measure: str) -> np.ndarray:
        """The final value of ``measure`` in each seed (NaN where a run did not report it)."""
        return np.array([float(r.result.get("final", {}).get(measure, math.nan)) for r in self.runs], dtype=float)

    def mean(self, measure: str) -> float:
        values = self.values(measure)
        values = values[~np.isnan(values)]
        return float(values.mean()) if values.size else math.nan

    def std(self, measure: str) -> float:
        """Sample standard deviation across seeds (0 for one seed)."""
        values = self.values(measure)
        values = values[~np.isnan(values)]
        return float(values.std(ddof=1)) if values.size > 1 else 0.0

    def interval(self, measure: str) -> Interval:
        """The mean of ``measure`` across seeds with its 95% t-interval, clipped to the measure's range (no
        interval for one seed)."""
        return interval(self.values(measure), bounds=self.bounds.get(measure, UNBOUNDED))

    def by_seed(self, measure: str) -> dict[int, float]:
        """Seed → final value of ``measure`` (seeds that did not report it left out)."""
        values = self.values(measure)
        return {r.seed: float(v) for r, v in zip(self.runs, values) if not math.isnan(v)}

    def compare(self, other: Group, measure: str, higher_is_better: bool = True) -> Paired:
        """This configuration against ``other`` on ``measure``, paired by seed (the seeds both have); a positive
        difference means this one is better."""
        mine, theirs = self.by_seed(measure), other.by_seed(measure)
        seeds = sorted(mine.keys() & theirs.keys())
        return paired([mine[s] for s in seeds], [theirs[s] for s in seeds], higher_is_better=higher_is_better,
                      bounds=self.bounds.get(measure, UNBOUNDED))

    def _stack(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, seeds × points) of the series ``name``, cut to the shortest seed."""
        series = [r.result.get("curves", {}).get(name) for r in self.runs]
        series = [np.asarray(s, dtype=float) for s in series if s]
        if not series:
            return np.zeros(0), np.zeros((0, 0))
        length = min(len(s) for s in series)
        xs = self.runs[0].result.get("curves", {}).get(f"{name}_x")
        x = np.asarray(xs[:length], dtype=float) if xs else np.arange(1, length + 1, dtype=float)
        return x, np.stack([s[:length] for s in series])

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, mean, std) of the series ``name`` across seeds, cut to the shortest seed."""
        x, stack = self._stack(name)
        if not len(x):
            return x, x, x
        with np.errstate(invalid="ignore"):
            std = np.nanstd(stack, axis=0, ddof=1) if len(stack) > 1 else np.zeros(len(x))
            return x, np.nanmean(stack, axis=0), std

    def band(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, mean, low, high): mean ± std across seeds, clipped to the range the seeds reached."""
        x, mean, std = self.curve(name)
        if not len(x):
            return x, x, x, x
        _, stack = self._stack(name)
        return x, mean, np.maximum(mean - std, np.nanmin(stack, axis=0)), np.minimum(mean + std,
                                                                                     np.nanmax(stack, axis=0))


class Summary:
    """Runs grouped by configuration, in the order the configurations were first seen (or ``order``)."""

    def __init__(self, groups: Sequence[Group]):
        self.groups = list(groups)

    @classmethod
    def from_runs(cls, runs: Sequence[Run], order: Sequence[Mapping[str, Any]] | None = None,
                  bounds: Mapping[str, Bounds] | None = None) -> Summary:
        """Group ``runs`` by configuration (in ``order`` if given); ``bounds`` (measure → range, see
        :attr:`~almanac.lab.scenario.Scenario.bounds`) clips the intervals."""
        grouped: dict[str, list[Run]] = {}
        for run in runs:
            grouped.setdefault(_key(run.config), []).append(run)
        keys = [_key(c) for c in order] if order is not None else list(grouped)
        return cls([Group(json.loads(k), tuple(sorted(grouped[k], key=lambda r: r.seed)), dict(bounds or {}))
                    for k in keys if k in grouped])

    def where(self, **values: Any) -> list[Group]:
        """The groups whose configuration has all of ``values``."""
        return [g for g in self.groups if all(g.config.get(k) == v for k, v in values.items())]

    def ranked(self, measure: str, higher_is_better: bool = True) -> list[Group]:
        """Groups best first by the mean of ``measure``; groups without it go last."""
        def order(group: Group) -> tuple[bool, float]:
            m = group.mean(measure)
            return (math.isnan(m), -m if higher_is_better else m)

        return sorted(self.groups, key=order)
