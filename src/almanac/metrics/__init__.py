"""Validation metrics: pure functions, streaming :class:`Metric` objects, collections and specs.

Every metric is three stages, format → update → compute (:mod:`._format`, :mod:`._metric`); the pure function and
the streaming object run the same code. ``get(name, **params)`` builds the streaming metric, ``collection(...)``
several at once, ``names()`` lists them and ``spec(name)`` gives their facts.
"""

from __future__ import annotations

from almanac.metrics._metric import Metric, MetricCollection
from almanac.metrics._registry import collection, get, names, spec

__all__ = ["Metric", "MetricCollection", "collection", "get", "names", "spec"]
