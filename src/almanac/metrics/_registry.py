"""The metric registry: names, specs, pure functions and the streaming classes behind ``get``.

Declare a metric once, next to its code, with :func:`register`: the streaming class (a
:class:`~almanac.metrics._metric.Metric` subclass) and the pure function, whose signature gives the spec's
``params`` and whose body is one call of :func:`evaluate`::

    class F1(_StatScores): ...

    @register(F1, summary="...", formula="...", tasks=("binary", "multiclass", "multilabel"), needs="labels",
              higher_is_better=True, range=(0.0, 1.0), references=("...",))
    def f1(preds, target, *, task=None, num_classes=None, ..., zero_division=0.0):
        '''docstring'''
        return evaluate(F1, preds, target, locals())

``get(name, **params)`` builds ``F1(**params)`` (the class's keywords are the function's), ``collection(names,
**shared)`` a :class:`~almanac.metrics._metric.MetricCollection`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from almanac.errors import ConfigError, problem
from almanac.metrics._metric import Metric, MetricCollection
from almanac.registry import MetricSpec, Registry, _signature_params

__all__ = ["REGISTRY", "collection", "evaluate", "get", "names", "register", "spec"]

_CLASSES: dict[str, type[Metric]] = {}
_DATA = ("sample_weight",)  # keywords of the pure functions that are data, not parameters


def _build(name: str, **params: Any) -> Metric:
    return _CLASSES[name](**params)


REGISTRY: Registry[MetricSpec] = Registry("metric", MetricSpec, default_factory=_build)


def register(cls: type[Metric], **facts: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: declare the pure function of ``cls`` and its spec (``facts`` are :class:`MetricSpec` fields)."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        params = _signature_params(function)
        cls._takes_weights = "sample_weight" in params
        # sample_weight is data, passed with each batch, not a parameter of the metric
        REGISTRY.register(params={k: v for k, v in params.items() if k not in _DATA}, **facts)(function)
        cls.spec = REGISTRY.spec(function.__name__)
        _CLASSES[function.__name__] = cls
        return function

    return decorate


def evaluate(cls: type[Metric], preds: Any, target: Any, arguments: dict[str, Any]) -> Any:
    """The body of a pure function: ``cls(**keywords).evaluate(preds, target, sample_weight)``; ``arguments`` is
    its ``locals()`` (``preds``, ``target``, ``sample_weight`` where it has one, and the keywords)."""
    params = {k: v for k, v in arguments.items() if k not in ("preds", "target", *_DATA)}
    return cls._pure(params).evaluate(preds, target, arguments.get("sample_weight"))


def get(name: str, **params: Any) -> Metric:
    """The streaming metric ``name`` built with ``params`` (the keywords of its pure function).

    >>> m = get("accuracy")
    >>> m.update([1, 0, 1], [1, 1, 1]); m.update([0], [0])
    >>> m.compute()
    0.75
    """
    return REGISTRY.get(name, **params)


def names() -> list[str]:
    """Canonical metric names, sorted."""
    return REGISTRY.names()


def spec(name: str) -> MetricSpec:
    """The :class:`MetricSpec` of ``name`` (or an alias)."""
    return REGISTRY.spec(name)


def collection(metrics: Sequence[str | Metric] | Mapping[str, str | Metric], *, prefix: str = "",
               postfix: str = "", class_names: Sequence[Any] | None = None, **shared: Any) -> MetricCollection:
    """Several metrics updated in one pass per batch; ``compute()`` returns a dict name → value.

    ``metrics``: names (or aliases) and/or built metrics, or a mapping key → name or metric. ``shared`` keywords
    go to every named metric whose function accepts them (``task``, ``num_classes``, ...); a keyword no named
    metric accepts raises :class:`ConfigError`. Built metrics keep their own parameters. ``prefix`` / ``postfix``
    frame every key (``"val_"`` → ``val_f1``); ``class_names`` splits per-class values into ``f1_cat``, ... .

    >>> c = collection(["f1", "recall"], average="none", class_names=["cat", "dog"], prefix="val_")
    >>> c.update([0, 1, 1], [0, 1, 0])
    >>> {k: round(v, 3) for k, v in c.compute().items()}
    {'val_f1_cat': 0.667, 'val_f1_dog': 0.667, 'val_recall_cat': 0.5, 'val_recall_dog': 1.0}

    >>> c = collection(["accuracy", "f1"], task="multiclass", num_classes=3, average="macro")
    >>> c.update([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], [0, 1, 1])
    >>> {k: round(v, 4) for k, v in c.compute().items()}
    {'accuracy': 0.5, 'f1': 0.5556}
    """
    items = list(metrics.items()) if isinstance(metrics, Mapping) else [
        (m if isinstance(m, str) else m.spec.name, m) for m in metrics
    ]
    built: dict[str, Metric] = {}
    used: set[str] = set()
    for key, m in items:
        if key in built:
            raise problem(ConfigError, "metrics", "to name each metric once", f"{key!r} twice",
                          "pass a mapping key → metric to use one metric with two settings")
        if isinstance(m, Metric):
            built[key] = m
            continue
        params = REGISTRY.spec(m).params
        mine = {k: v for k, v in shared.items() if k in params}
        used.update(mine)
        built[key] = get(m, **mine)
    unused = sorted(set(shared) - used)
    if unused:
        raise problem(ConfigError, "shared keywords", "to be accepted by at least one named metric", str(unused),
                      "drop them, or check their spelling against almanac.metrics.spec(name).params")
    return MetricCollection(built, prefix=prefix, postfix=postfix, class_names=class_names)
