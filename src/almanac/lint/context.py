"""What the rules read: the traced model, the loss's kind, the sample batch, the metrics and the gradients.

The :class:`Context` is built once by :func:`almanac.lint.check`; rules only read it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch
from torch import Tensor, nn

from almanac.errors import UnknownNameError
from almanac.lint.losses import LossKind
from almanac.lint.trace import AFFINE, DISCRETE, NORMS, RANGES, Op, Trace
from almanac.registry import MetricSpec

__all__ = ["Context", "Head", "Metric", "TargetFacts", "describe", "metric_name", "new_context"]


@dataclass(frozen=True)
class Head:
    """The model's output activation: its kind ("identity" for raw scores, "labels" for hard decisions)."""

    kind: str
    op: Op
    range: tuple[float, float] | None

    @property
    def non_negative(self) -> bool:
        return self.range is not None and self.range[0] >= 0.0

    @property
    def in_unit_interval(self) -> bool:
        return self.range is not None and self.range[0] >= 0.0 and self.range[1] <= 1.0


def describe(op: Op) -> str:
    """How the user wrote ``op``: ``nn.Softmax``, ``am.activations.get('sigmoid')`` or ``torch.softmax``."""
    module = op.module
    if module is not None:
        if type(module).__module__.startswith("almanac.activations"):
            return f"am.activations.get({op.kind!r})"
        if type(module).__module__.startswith("torch.nn.modules.activation"):
            return f"nn.{type(module).__name__}"
    return f"{op.kind}()"


@dataclass(frozen=True)
class Metric:
    """A metric the user named or passed, resolved to an almanac spec when possible."""

    name: str
    tasks: tuple[str, ...] | None
    needs: str | None


_SKLEARN_NAMES = {
    "roc_auc": "auroc", "mean_squared_error": "mse", "mean_absolute_error": "mae", "r2": "r2",
    "root_mean_squared_error": "rmse", "mean_absolute_percentage_error": "mape", "f1": "f1",
    "average_precision": "average_precision", "balanced_accuracy": "balanced_accuracy", "log": "log_loss",
    "mean_squared_log_error": "msle", "auc": "auroc", "a_u_r_o_c": "auroc", "r2_score": "r2",
}


def metric_name(metric: Any) -> str:
    """A canonical-looking name for a metric name, almanac metric object, torchmetrics class or sklearn function.

    >>> from sklearn.metrics import roc_auc_score
    >>> metric_name(roc_auc_score), metric_name("Balanced-Accuracy")
    ('auroc', 'balanced_accuracy')
    """
    if isinstance(metric, str):
        raw = metric
    else:
        raw = getattr(metric, "name", None) or getattr(metric, "__name__", None) or type(metric).__name__
        raw = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(raw))
    name = raw.strip().lower().replace("-", "_").replace(" ", "_")
    name = re.sub(r"^(binary|multiclass|multilabel)_", "", name)
    name = re.sub(r"_score$", "", name)
    return _SKLEARN_NAMES.get(name, name)


def _resolve_metric(metric: Any) -> Metric:
    """A metric name is looked up in almanac (an unknown name raises); an object is read from its ``spec`` or its
    name, and stays unresolved (no rule uses it) when almanac does not know it."""
    from almanac import metrics

    spec = getattr(metric, "spec", None)
    if isinstance(spec, MetricSpec):
        return Metric(spec.name, tuple(spec.tasks), spec.needs)
    name = metric_name(metric)
    if isinstance(metric, str):
        spec = metrics.spec(name)
    else:
        try:
            spec = metrics.spec(name)
        except UnknownNameError:  # a metric almanac does not know (torchmetrics, scikit-learn, user's own)
            return Metric(name, None, None)
    return Metric(spec.name, tuple(spec.tasks), spec.needs)


@dataclass(frozen=True)
class TargetFacts:
    """Measured once on the sample target."""

    shape: tuple[int, ...]
    integer_dtype: bool
    integer_valued: bool
    low: float
    high: float
    distinct: tuple[float, ...]
    finite: bool

    @classmethod
    def of(cls, target: Tensor) -> TargetFacts:
        t = target.detach()
        values = t.double() if t.is_floating_point() or t.dtype == torch.bool else t.long().double()
        finite_mask = torch.isfinite(values)
        finite_values = values[finite_mask]
        integer_valued = bool((finite_values == finite_values.round()).all()) if finite_values.numel() else True
        distinct = torch.unique(finite_values)
        return cls(
            shape=tuple(t.shape),
            integer_dtype=not t.is_floating_point() and not t.is_complex(),
            integer_valued=integer_valued,
            low=float(finite_values.min()) if finite_values.numel() else math.nan,
            high=float(finite_values.max()) if finite_values.numel() else math.nan,
            distinct=tuple(float(v) for v in distinct[:64]),
            finite=bool(finite_mask.all()),
        )

    @property
    def binary01(self) -> bool:
        return set(self.distinct) <= {0.0, 1.0}

    @property
    def continuous(self) -> bool:
        """Real values: float and not all integer (soft labels in [0, 1] count as continuous too)."""
        return not self.integer_valued


@dataclass
class Context:
    """Everything the rules read. Built by :func:`almanac.lint.check`."""

    model: nn.Module
    loss: LossKind | None
    trace: Trace | None
    inputs: Tensor | None
    target: Tensor | None
    metrics: list[Metric]
    task: str | None
    dynamic: bool = False
    loss_value: Tensor | None = None
    grads: dict[str, Tensor | None] = field(default_factory=dict)
    #: what reaches the loss (the tensor a PyTorch loss function scores), or the model's output without a loss
    output: Tensor | None = None
    #: the trace index of the op that produced ``output`` (None: the model's output; -3: no traced op)
    source: int | None = None

    # -- the model's output ---------------------------------------------------------------------------------
    @cached_property
    def chain(self) -> list[Op]:
        """The last value-changing ops before what reaches the loss (or the output), last first."""
        return self.trace.tail(start=self.source) if self.trace is not None else []

    @cached_property
    def head(self) -> Head | None:
        """The output activation read from the last ops on the output path (None when unknown)."""
        if self.trace is None:
            return None
        chain = self.chain
        if not chain:
            return None
        last = chain[0]
        if last.kind == "log" and len(chain) > 1 and chain[1].kind in ("softmax", "sigmoid"):
            kind = "log_softmax" if chain[1].kind == "softmax" else "log_sigmoid"
            return Head(kind, chain[1], RANGES[kind])
        if last.kind in AFFINE or last.kind in NORMS:
            return Head("identity", last, RANGES["identity"])
        if last.kind in DISCRETE:
            return Head("labels", last, None)
        if last.range is not None:
            return Head(last.kind, last, last.range)
        return None

    @cached_property
    def output_shape(self) -> tuple[int, ...] | None:
        """The shape of what reaches the loss; with a dry run the batch size is the dry run's."""
        if self.output is not None:
            return tuple(self.output.shape)
        out = self.trace.output_tensor if self.trace is not None else None
        return tuple(out.shape) if out is not None else None

    @property
    def classes(self) -> int | None:
        """The number of output units per sample (dimension 1 of what reaches the loss: ``V`` for a language
        model's ``(N·T, V)`` scores), or None for a 1-d output."""
        shape = self.output_shape
        return shape[1] if shape is not None and len(shape) >= 2 else None

    @cached_property
    def target_facts(self) -> TargetFacts | None:
        return TargetFacts.of(self.target) if self.target is not None and self.target.numel() else None

    # -- the task -------------------------------------------------------------------------------------------
    @cached_property
    def inferred_task(self) -> str | None:
        """The task given, or read from the loss and the target; None when they do not say it clearly."""
        if self.task is not None:
            return self.task
        loss, facts = self.loss, self.target_facts
        if loss is not None and loss.known:
            if loss.family in ("segmentation", "adversarial"):
                return loss.family
            if loss.family == "regression":
                return None if facts is not None and facts.integer_dtype else "regression"
            if loss.class_indices:
                return "multiclass"
            if loss.binary_targets:
                return "multilabel" if (self.classes or 1) > 1 else "binary"
        if facts is not None:
            if facts.continuous:
                return "regression"
            if facts.integer_dtype and len(facts.shape) == 1:
                return "binary" if len(facts.distinct) <= 2 else "multiclass"
        return None

    def class_counts(self) -> tuple[list[int], int] | None:
        """How often each present class occurs (or, for multi-hot targets, each label's rarer value) and out of
        how many samples; None when the target holds no class labels."""
        facts, target = self.target_facts, self.target
        if facts is None or target is None or not facts.finite or not facts.integer_valued or not facts.low >= 0:
            return None
        task = self.inferred_task
        if task == "multilabel" and target.ndim == 2 and facts.binary01:
            positives = target.detach().double().sum(dim=0)
            n = int(target.shape[0])
            return [int(min(p, n - p)) for p in positives], n
        if task in ("binary", "multiclass") and target.ndim <= 2 and target.numel() == target.shape[0]:
            counts = torch.bincount(target.detach().reshape(-1).long())
            present = [int(c) for c in counts if c > 0]
            return (present, sum(present)) if len(present) > 1 else None
        return None


def new_context(**kwargs: Any) -> Context:
    metrics = [_resolve_metric(m) for m in kwargs.pop("metrics")]
    return Context(metrics=metrics, **kwargs)
