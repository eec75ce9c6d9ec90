"""The streaming :class:`Metric` base, :class:`MetricCollection` and the distributed sync.

A metric is three pure stages (style.md #2), each a method a subclass provides:

``_format(preds, target) -> Batch``
    validation and canonical shapes (:mod:`almanac.metrics._format`); the default calls
    :func:`~almanac.metrics._format.format_classification` with :meth:`_format_options`.
``_batch_states(batch) -> dict[str, Tensor]``
    the statistics of one batch, one tensor per declared state (confusion counts, sums, or the raw tensors of a
    ``"cat"`` state, per-batch extremes of a ``"min"`` / ``"max"`` state).
``_compute(states, resolved) -> Tensor | tuple[Tensor, ...]``
    the value from (accumulated) states; ``resolved = (task, num_classes)`` as read from the first batch.

plus ``_init_states(resolved, device)``, which declares the states with :meth:`Metric.add_state` once the task and
the number of classes are known (at the first ``update``, ``merge`` or ``load_state_dict``). Optional hooks:
``_check_params(params)`` (ConfigError at construction; the default checks the shared classification keywords),
``_format_options()`` and ``_stats_key()`` (what a collection may share between metrics).

The pure function is ``evaluate``: ``_compute(_batch_states(_format(preds, target)))`` — the very code the
streaming path runs, without the accumulation. ``update`` adds a batch's statistics to the states: ``"sum"``
states by addition, ``"cat"`` states by concatenation. ``merge`` does the same with another metric's states,
and ``compute`` under ``torch.distributed`` (world size > 1) first combines every rank's states — all-reduce SUM
(MIN, MAX) for sum (min, max) states, all-gather of variable-length tensors for cat states — into a copy, leaving
local states as they were. Every rank must call ``compute`` (it is a collective); ranks may have seen no data.

Results have the kind of the last ``update``'s inputs (tensors in → tensor, float32 unless ``preds`` was a float64
tensor; NumPy / lists in → Python float, NumPy array for per-class values and curves). A metric that has seen no
sample raises :class:`~almanac.errors.UndefinedMetricError` from ``compute``.

``state_dict()`` holds tensors only (states, plus ``_task``, ``_num_classes`` and ``_kind`` codes), so it
loads with ``torch.load(..., weights_only=True)``; an empty dict means "no data yet". Metrics pickle.

Writing a metric (see classification.py for real ones)::

    class Mse(Metric):
        def _format(self, preds, target):
            return format_regression(preds, target, resolved=self._resolved)
        def _init_states(self, resolved, device):
            self.add_state("sse", torch.zeros(resolved[1], dtype=torch.float64, device=device))
            self.add_state("n", torch.zeros((), dtype=torch.int64, device=device))
        def _batch_states(self, batch):
            return {"sse": ((batch.preds - batch.target) ** 2).sum(0), "n": torch.tensor(len(batch.target))}
        def _compute(self, states, resolved):
            return (states["sse"] / states["n"]).mean()

and declare its pure function with :func:`almanac.metrics._registry.register`.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

from almanac.errors import ConfigError, UndefinedMetricError, problem
from almanac.metrics._format import Batch, check_classification_options, format_classification, output_kind, to_kind
from almanac.registry import TASKS, MetricSpec

__all__ = ["Metric", "MetricCollection"]

REDUCTIONS = ("sum", "cat", "min", "max")
KINDS = ("tensor", "tensor64", "numpy")


def _same(a: Any, b: Any) -> bool:
    """Parameter equality where nan equals nan (``zero_division=float('nan')``)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _python(value: Any) -> Any:
    """NumPy scalars as the Python values they hold (``num_classes=y.max() + 1``, ``from_logits=np.False_``), so
    every check and comparison sees ``int`` / ``float`` / ``bool``."""
    return value.item() if isinstance(value, np.generic) and value.dtype.kind in "biuf" else value


_OPS = {"sum": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX} if dist.is_available() else {}


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


_TORCHMETRICS = [False]  # whether Metric is registered as a virtual subclass of torchmetrics.Metric


def _join_torchmetrics() -> None:
    """Register :class:`Metric` as a virtual subclass of ``torchmetrics.Metric`` (an ABC) once torchmetrics is
    imported — Lightning imports it — so that Lightning's ``self.log(name, metric)`` treats an almanac metric as it
    treats a torchmetrics one (``isinstance(value, torchmetrics.Metric)``): it keeps the object, calls ``compute()``
    at the end of the epoch (almanac syncs the ranks itself), logs the value and calls ``reset()``. Importing
    torchmetrics ourselves would cost seconds at ``import almanac``; checking ``sys.modules`` costs nanoseconds."""
    module = sys.modules.get("torchmetrics")
    if module is not None and hasattr(module, "Metric"):
        module.Metric.register(Metric)
        _TORCHMETRICS[0] = True


class Metric(nn.Module):
    """A streaming metric: ``update`` with batches, ``compute`` the value over everything seen.

    Built with the keyword parameters of its pure function (``F1(average="macro")`` is
    ``get("f1", average="macro")``); they are validated here, once. See the module docstring for the protocol.

    It is an ``nn.Module`` (as torchmetrics' metrics are): set it as an attribute of a model and it moves with the
    model — ``.to(device)`` moves its states; ``.to(dtype)``, ``.half()``, ``.double()`` change its floating
    states only (counts stay int64) — and its states are in the model's ``state_dict()``. Calling it,
    ``metric(preds, target)``, is ``forward``: it updates the states and returns the value of this batch alone.
    In Lightning, ``self.log("val_f1", self.f1)`` logs the epoch value, combined over every DDP rank, and resets
    the metric each epoch, as for a torchmetrics metric. The states are not buffers: DDP's buffer broadcast leaves
    each rank's own counts alone.

    >>> import torch
    >>> from almanac.metrics import F1
    >>> m = F1()
    >>> m(torch.tensor([1, 0, 1]), torch.tensor([1, 1, 1]))  # forward: this batch's F1
    tensor(0.8000)
    >>> m(torch.tensor([0]), torch.tensor([0])), m.compute()  # the next batch; the epoch so far
    (tensor(0.), tensor(0.8000))
    """

    spec: ClassVar[MetricSpec]  # set by almanac.metrics._registry.register
    _takes_weights: ClassVar[bool] = False  # whether _batch_states reads Batch.weight (sample_weight)

    def __init__(self, **params: Any) -> None:
        super().__init__()
        if not _TORCHMETRICS[0]:
            _join_torchmetrics()
        self._configure(params)

    @classmethod
    def _pure(cls, params: dict[str, Any]) -> Metric:
        """A metric for one :meth:`evaluate` (the pure functions): configured and validated like ``cls(**params)``
        but without ``nn.Module``'s set-up, which would cost more than a small call's work. It is never updated,
        moved or registered."""
        metric = cls.__new__(cls)
        metric._configure(params)
        return metric

    def _configure(self, params: dict[str, Any]) -> None:
        allowed = type(self).spec.params
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise problem(ConfigError, "parameters", f"of metric `{self.spec.name}` among {list(allowed)}",
                          str(unknown), f"see almanac.metrics.spec({self.spec.name!r}).params")
        self.params: dict[str, Any] = {**allowed, **params}
        for k, v in params.items():
            if isinstance(v, np.generic):
                self.params[k] = _python(v)
        self._check_params(self.params)
        task = self.params.get("task")
        if task is not None and task not in self.spec.tasks:
            raise problem(ConfigError, "task", f"of metric `{self.spec.name}` to be one of {self.spec.tasks}",
                          repr(task), f"pick a metric for {task!r} (see almanac.metrics.spec(name).tasks)")
        # _defaults / _reduce: the declared states; _home: set by .to(device), where the states live; _float: set by
        # .to(dtype), the dtype of floating states; _forward_cache: the last forward's value (Lightning logs it)
        self.__dict__.update(_defaults={}, _reduce={}, _home=None, _float=None, _forward_cache=None)
        self.reset()

    def __setattr__(self, name: str, value: Any) -> None:
        # A metric holds no parameter, buffer or submodule: skip nn.Module's checks, which cost microseconds per
        # assignment (a pure function builds a metric per call). As Lightning's own result metrics do.
        if isinstance(value, nn.Module):
            super().__setattr__(name, value)
        else:
            object.__setattr__(self, name, value)

    # -- hooks (override) --------------------------------------------------------------------------------------
    def _check_params(self, params: dict[str, Any]) -> None:
        """Validate the configuration (ConfigError). The default checks the shared classification keywords."""
        check_classification_options(params)

    def _format_options(self) -> dict[str, Any]:
        """Keywords for :func:`format_classification`; metrics whose options are equal share one format."""
        p = self.params
        return {"task": p.get("task"), "num_classes": p.get("num_classes"), "num_labels": p.get("num_labels"),
                "threshold": p.get("threshold", 0.5), "from_logits": p.get("from_logits", False),
                "ignore_index": p.get("ignore_index"), "needs": self.spec.needs,
                "labels": None if p.get("labels") is None else tuple(p["labels"])}

    def _format(self, preds: Any, target: Any, sample_weight: Any = None) -> Batch:
        return format_classification(preds, target, **self._format_options(), resolved=self._resolved,
                                     sample_weight=sample_weight)

    def _stats_key(self) -> Hashable | None:
        """Metrics of a collection with equal format options and equal non-None keys share ``_batch_states``."""
        return None

    def _init_states(self, resolved: tuple[str, int], device: torch.device) -> None:
        raise NotImplementedError

    def _batch_states(self, batch: Batch) -> dict[str, Tensor]:
        raise NotImplementedError

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Any:
        raise NotImplementedError

    # -- declaring states --------------------------------------------------------------------------------------
    def add_state(self, name: str, default: Tensor, reduce: str = "sum") -> None:
        """Declare a state (from ``_init_states``). ``reduce="sum"``: combined by addition (the default tensor is
        the zero); ``"cat"``: concatenated along dimension 0 (the default is an empty ``(0, ...)`` tensor that
        fixes the dtype and trailing shape); ``"min"`` / ``"max"``: elementwise extremes (the default is the
        identity, e.g. ``+inf`` for ``"min"``)."""
        if reduce not in REDUCTIONS:
            raise problem(ConfigError, "reduce", f"to be one of {REDUCTIONS}", repr(reduce),
                          "pass 'sum', 'cat', 'min' or 'max'")
        self._defaults[name] = default
        self._reduce[name] = reduce

    def _fresh(self) -> dict[str, Any]:
        return {k: ([d] if self._reduce[k] == "cat" else d.clone()) for k, d in self._defaults.items()}

    @property
    def _count_dtype(self) -> torch.dtype:
        """int64 counts; float64 sums of weights once the stream is weighted (``sample_weight``)."""
        return torch.float64 if self._weighted else torch.int64

    def _start(self, resolved: tuple[str, int], device: torch.device, weighted: bool = False) -> None:
        self._weighted = weighted
        self._defaults, self._reduce = {}, {}
        self._init_states(resolved, self._home or device)
        if self._float is not None:
            self._defaults = {k: d.to(self._float) if d.is_floating_point() else d for k, d in self._defaults.items()}
        self._resolved = resolved
        self._states = self._fresh()

    def _local_states(self) -> dict[str, Tensor]:
        out = {}
        for k, v in self._states.items():
            if self._reduce[k] == "cat":
                if len(v) > 1:
                    v[:] = [torch.cat(v)]
                out[k] = v[0]
            else:
                out[k] = v
        return out

    # -- the public protocol -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every batch seen."""
        self.__dict__.update(_resolved=None, _states={}, _kind="tensor", _weighted=False)

    def _check_batch(self, batch: Batch) -> None:
        if batch.task not in self.spec.tasks:
            raise problem(ConfigError, "task", f"of metric `{self.spec.name}` to be one of {self.spec.tasks}",
                          f"{batch.task!r} (read from the inputs)", "pass task= and inputs of a task it supports")

    def _weigh(self, batch: Batch) -> Batch:
        """A stream is weighted or not from its first batch: later unweighted batches weigh 1 each; weights after
        unweighted batches raise (the integer counts cannot take them)."""
        if batch.weight is not None and not self._takes_weights:
            raise problem(ConfigError, "sample_weight", f"to be None for metric `{self.spec.name}`",
                          "weights", "leave it out: this metric has no weighted form (scikit-learn has none either)")
        if self._resolved is None or batch.weight is not None or not self._weighted:
            if batch.weight is not None and self._resolved is not None and not self._weighted:
                raise problem(ConfigError, "sample_weight", "to be given from the first batch of a stream on",
                              "weights after unweighted batches", "pass sample_weight with every batch (ones for "
                              "unweighted ones), or reset() first")
            return batch
        return replace(batch, weight=torch.ones(batch.target.shape[0], dtype=torch.float64,
                                                device=batch.target.device))

    def evaluate(self, preds: Any, target: Any, sample_weight: Any = None) -> Any:
        """The metric of this batch alone; the state is untouched (this is the pure function). It keeps the
        autograd graph for metrics whose spec says ``differentiable``. ``sample_weight``: ``(N,)`` weights ≥ 0,
        as scikit-learn's (metrics with a ``sample_weight`` argument)."""
        batch = self._format(preds, target, sample_weight)
        self._check_batch(batch)
        return to_kind(self._compute(self._batch_states(batch), batch.resolved), output_kind(preds, target))

    @torch.no_grad()
    def update(self, preds: Any, target: Any, sample_weight: Any = None) -> None:
        """Add one batch. The first batch fixes the task and the number of classes of the stream (and whether it
        is weighted: ``sample_weight``, ``(N,)`` weights ≥ 0, kept in the states so merge and DDP sync hold). No
        autograd graph is built (model outputs can be passed as they are)."""
        if not _TORCHMETRICS[0]:
            _join_torchmetrics()
        batch = self._weigh(self._format(preds, target, sample_weight))
        self._check_batch(batch)
        self._accumulate(batch, self._batch_states(batch), output_kind(preds, target))

    def forward(self, preds: Any, target: Any, sample_weight: Any = None) -> Any:
        """``metric(preds, target)``: add the batch (as :meth:`update`) and return its value alone (as
        :meth:`evaluate`), from one pass: the batch's statistics are computed once, for both. The value keeps the
        autograd graph only for metrics whose spec says ``differentiable``."""
        if not _TORCHMETRICS[0]:
            _join_torchmetrics()
        batch = self._weigh(self._format(preds, target, sample_weight))
        self._check_batch(batch)
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.spec.differentiable):
            stats = self._batch_states(batch)
        kind = output_kind(preds, target)
        self._accumulate(batch, stats, kind)
        self._forward_cache = value = to_kind(self._compute(stats, batch.resolved), kind)
        return value

    @property
    def device(self) -> torch.device:
        """Where the states live (set by ``.to(device)``, else by the first batch; CPU before either)."""
        if self._home is not None:
            return self._home
        return next(iter(self._defaults.values())).device if self._defaults else torch.device("cpu")

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Metric:
        """``nn.Module.to`` / ``.cuda()`` / ``.half()`` / ``.double()`` ...: move every state; change the dtype of
        floating states only, also of states declared later (at the first batch)."""
        probe = fn(torch.zeros((), dtype=torch.float64, device=self.device))
        self._home = probe.device
        self._float = None if probe.dtype == torch.float64 else probe.dtype

        def convert(t: Tensor) -> Tensor:
            return fn(t) if t.is_floating_point() else t.to(probe.device)

        self._defaults = {k: convert(v) for k, v in self._defaults.items()}
        self._states = {k: (convert(v) if isinstance(v, Tensor) else [convert(t) for t in v])
                        for k, v in self._states.items()}
        return super()._apply(fn, recurse)

    def _accumulate(self, batch: Batch, stats: dict[str, Tensor], kind: str) -> None:
        if self._resolved is None:
            self._start(batch.resolved, batch.preds.device, batch.weight is not None)
        self._combine(stats)
        if kind != self._kind:  # nn.Module.__setattr__ costs microseconds
            self._kind = kind

    def _combine(self, stats: dict[str, Tensor]) -> None:
        for k, v in stats.items():
            v = v.detach()  # states never hold an autograd graph
            reduce, state = self._reduce[k], self._states[k]
            if reduce == "cat":
                default = self._defaults[k]
                state.append(v.to(default.device, default.dtype))
            elif reduce == "sum":
                state += v.to(state.device)
            else:
                torch.minimum(state, v.to(state.device), out=state) if reduce == "min" else torch.maximum(
                    state, v.to(state.device), out=state)

    def compute(self) -> Any:
        """The metric over every batch seen (and every rank, under ``torch.distributed``)."""
        states, resolved = self._synced_states()
        return to_kind(self._compute(states, resolved), self._kind)

    def merge(self, other: Metric) -> Metric:
        """Add ``other``'s batches to this metric, in place: the result equals having seen both streams."""
        if type(other) is not type(self) or set(other.params) != set(self.params) or not all(
            _same(self.params[k], other.params[k]) for k in self.params
        ):
            raise problem(ConfigError, "other", f"to be a {type(self).__name__} with parameters {self.params}",
                          f"{type(other).__name__} with {getattr(other, 'params', None)}",
                          "merge only metrics built with the same parameters")
        if other._resolved is None:
            return self
        if self._resolved is None:
            self._start(other._resolved, next(iter(other._defaults.values())).device, other._weighted)
            self._kind = other._kind
        elif self._resolved != other._resolved:
            raise problem(ConfigError, "other", f"to have read its data as {self._resolved}",
                          f"{other._resolved}", "pass task= and num_classes= / num_labels= when building both")
        elif self._weighted != other._weighted:
            raise problem(ConfigError, "other", f"to be {'' if self._weighted else 'un'}weighted like this stream",
                          f"{'' if other._weighted else 'un'}weighted", "pass sample_weight to both streams or none")
        self._combine(other._local_states())
        return self

    def state_dict(self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """The states as tensors (empty before any data), loadable with ``torch.load(weights_only=True)``.
        (``destination`` and ``prefix`` are ``nn.Module``'s: a model's ``state_dict()`` holds its metrics'.)"""
        out: dict[str, Tensor] = {}
        if self._resolved is not None:
            task, n = self._resolved
            out = {k: v.clone() for k, v in self._local_states().items()}
            out["_task"] = torch.tensor(TASKS.index(task))
            out["_num_classes"] = torch.tensor(n)
            out["_kind"] = torch.tensor(KINDS.index(self._kind))
            if self._weighted:
                out["_weighted"] = torch.tensor(1)
        if destination is None and not prefix:
            return out
        destination = OrderedDict() if destination is None else destination
        destination.update((prefix + k, v) for k, v in out.items())
        return destination

    def _load_from_state_dict(self, state_dict: Mapping[str, Any], prefix: str, local_metadata: Any, strict: bool,
                              missing_keys: list[str], unexpected_keys: list[str], error_msgs: list[str]) -> None:
        """A model's ``load_state_dict`` loads its metrics' states (the keys under this metric's prefix)."""
        try:
            self.load_state_dict({k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)})
        except ConfigError as e:
            error_msgs.append(str(e))

    def load_state_dict(self, state_dict: Mapping[str, Tensor], strict: bool = True, assign: bool = False) -> None:
        """Replace the states with those of :meth:`state_dict` (of a metric with the same parameters); anything
        else raises :class:`ConfigError` naming the mismatch and leaves the metric as it was. (``strict`` and
        ``assign`` are ``nn.Module``'s and change nothing: a metric's states are always checked.)"""
        if not state_dict:
            self.reset()
            return
        d = dict(state_dict)
        codes = {}
        for key, names in (("_task", TASKS), ("_num_classes", None), ("_kind", KINDS)):
            code = d.pop(key, None)
            if not isinstance(code, Tensor) or code.ndim != 0 or code.is_floating_point() or code.is_complex() or (
                    int(code) < 0 if names is None else not 0 <= int(code) < len(names)):
                raise problem(ConfigError, f"state_dict[{key!r}]", "to be a code written by Metric.state_dict()",
                              repr(code), "pass the dict a metric's state_dict() returned")
            codes[key] = int(code) if names is None else names[int(code)]
        resolved = (codes["_task"], codes["_num_classes"])
        weighted = bool(d.pop("_weighted", 0))
        self._check_resolved(resolved)
        device = next(iter(d.values())).device if d else (self._home or torch.device("cpu"))
        before = dict(self.__dict__)  # the states, their declarations and any subclass caches
        self._start(resolved, device, weighted)
        try:
            if set(d) != set(self._defaults):
                raise problem(ConfigError, "state_dict", f"to hold the states {sorted(self._defaults)}",
                              str(sorted(d)), "load a state_dict of the same metric with the same parameters")
            for k, v in d.items():
                self._check_state(k, v)
        except ConfigError:  # a rejected dict leaves the metric as it was
            self.__dict__.update(before)
            raise
        for k, v in d.items():
            v = v.to(self._defaults[k].dtype)
            self._states[k] = [v.clone()] if self._reduce[k] == "cat" else v.clone()
        self._kind = codes["_kind"]

    def _check_resolved(self, resolved: tuple[str, int]) -> None:
        """The task and size of a loaded state must be possible for this metric and its parameters."""
        task, n = resolved
        p = self.params
        want = {"binary": 2, "multiclass": p.get("num_classes"), "multilabel": p.get("num_labels")}.get(task)
        if task not in self.spec.tasks or (p.get("task") not in (None, "segmentation") and p.get("task") != task) \
                or (want is not None and n != want) or n < 1:
            raise problem(ConfigError, "state_dict", f"to be read as a task and size this {type(self).__name__} "
                          f"({self.params.get('task')}, num_classes/labels "
                          f"{p.get('num_classes') or p.get('num_labels')}) accepts", f"task {task!r} of size {n}",
                          "load a state_dict of the same metric with the same parameters")

    def _check_state(self, name: str, value: Any) -> None:
        """One loaded state against its declaration: a tensor of the declared shape (``cat``: trailing shape) and
        kind of dtype, counts non-negative, no NaN."""
        default, reduce = self._defaults[name], self._reduce[name]
        where = f"state_dict[{name!r}]"
        if not isinstance(value, Tensor):
            raise problem(ConfigError, where, "to be a tensor", type(value).__name__, "load a metric's state_dict()")
        shape = tuple(default.shape[1:]) if reduce == "cat" else tuple(default.shape)
        got = tuple(value.shape[1:]) if reduce == "cat" else tuple(value.shape)
        if got != shape or (reduce == "cat" and value.ndim != default.ndim):
            want = f"(n, {str(shape)[1:]}" if reduce == "cat" else str(shape)
            raise problem(ConfigError, where, f"to have shape {want}",
                          f"{tuple(value.shape)}", "load a state_dict of the same metric with the same parameters "
                          "(num_classes / num_labels)")
        if value.is_floating_point() != default.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
            raise problem(ConfigError, where, f"to have dtype {default.dtype}", f"{value.dtype}",
                          "load a state_dict of the same metric")
        if value.numel() == 0:
            return
        if value.is_floating_point():
            if bool(torch.isnan(value).any()):
                raise problem(ConfigError, where, "to hold no NaN", "NaN", "load a state_dict a metric wrote")
        elif reduce == "sum" and int(value.min()) < 0:
            raise problem(ConfigError, where, "to hold counts ≥ 0", f"min {int(value.min())}",
                          "load a state_dict a metric wrote")

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.params.items() if not _same(v, self.spec.params[k])}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # -- distributed -------------------------------------------------------------------------------------------
    def _synced_states(self) -> tuple[dict[str, Tensor], tuple[str, int]]:
        if not _distributed():
            if self._resolved is None:
                raise UndefinedMetricError(f"metric `{self.spec.name}` has seen no data — call update() first")
            return self._local_states(), self._resolved
        local = self._local_states() if self._resolved is not None else None
        lengths = {k: v.shape[0] for k, v in (local or {}).items() if self._reduce[k] == "cat"}
        infos: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(infos, (self._resolved, lengths, self._weighted))
        seen = {info[0] for info in infos if info[0] is not None}
        if not seen:
            raise UndefinedMetricError(f"metric `{self.spec.name}` has seen no data on any rank")
        if len(seen) > 1:
            raise problem(ConfigError, "ranks", "to read their data the same way", f"{sorted(seen)}",
                          "pass task= and num_classes= / num_labels= so every rank agrees")
        resolved = seen.pop()
        weighted = {info[2] for info in infos if info[0] is not None}
        if len(weighted) > 1:
            raise problem(ConfigError, "ranks", "to be all weighted or all unweighted", "a mix",
                          "pass sample_weight on every rank or on none")
        if local is None:  # declare the states to take part in the collectives; our own stay empty
            self._defaults, self._reduce, self._weighted = {}, {}, weighted.pop()
            self._init_states(resolved, torch.device("cpu") if dist.get_backend() == "gloo" else
                              torch.device("cuda", torch.cuda.current_device()))
            local = {k: d.clone() for k, d in self._defaults.items()}
        out = {}
        for k in sorted(local):
            t = local[k]
            if self._reduce[k] != "cat":
                t = t.clone()
                dist.all_reduce(t, op=_OPS[self._reduce[k]])
            else:
                sizes = [info[1].get(k, 0) for info in infos]
                if max(sizes) > 0:  # every rank sees the same sizes: all gather, or all keep their empty state
                    padded = t.new_zeros((max(sizes), *t.shape[1:]))
                    padded[: t.shape[0]] = t
                    parts = [torch.empty_like(padded) for _ in sizes]
                    dist.all_gather(parts, padded)
                    t = torch.cat([p[:s] for p, s in zip(parts, sizes)])
            out[k] = t
        return out, resolved


class MetricCollection(nn.Module):
    """Several metrics updated in one pass over each batch (build it with :func:`almanac.metrics.collection`).

    Inputs are converted once; metrics whose format options are equal share one formatted batch, and those that
    also share a statistics key (accuracy, precision, recall, F1, ... with the same options) share one confusion
    matrix. Each metric keeps its own states, so ``merge``, ``state_dict`` and ``compute`` work per metric.
    ``update`` is atomic: every member validates the batch before any state changes.

    ``compute()`` (and ``forward``, which returns the batch's values) gives a dict ``prefix + name + postfix`` →
    value, as torchmetrics' ``MetricCollection``; with ``class_names``, a per-class result (``average="none"``)
    becomes one entry per class, ``f1_cat``, ``f1_dog``, ... (torchmetrics' ``ClasswiseWrapper``). Like a metric,
    a collection is an ``nn.Module``: its metrics are its submodules; ``items()`` gives the metrics under their
    logged names, so Lightning's ``self.log_dict(collection)`` logs each as a metric.
    """

    def __init__(self, metrics: Mapping[str, Metric], *, prefix: str = "", postfix: str = "",
                 class_names: Any = None) -> None:
        super().__init__()
        for key in metrics:
            if not isinstance(key, str) or not key or "." in key:
                raise problem(ConfigError, "metrics", "to be named by non-empty strings without '.'", repr(key),
                              "pass a mapping with names such as 'val_f1'")
        for name, value in (("prefix", prefix), ("postfix", postfix)):
            if not isinstance(value, str):
                raise problem(ConfigError, name, "to be a string", repr(value), f"pass {name}='val_' or leave it")
        names = None if class_names is None else [str(c) for c in class_names]
        if names is not None and (not names or len(set(names)) != len(names)):
            raise problem(ConfigError, "class_names", "to name each class once", repr(class_names),
                          "pass one distinct name per class, in class-index order")
        self.metrics: dict[str, Metric] = dict(metrics)
        self._modules.update(self.metrics)  # submodules under their names: state_dict keys are "name.state"
        self.prefix, self.postfix, self.class_names = prefix, postfix, names

    def _step(self, preds: Any, target: Any, values: bool, sample_weight: Any = None) -> dict[str, Any] | None:
        kind = output_kind(preds, target)
        formats: dict[Hashable, Batch] = {}
        stats: dict[Hashable, dict[str, Tensor]] = {}
        todo = []
        for m in self.metrics.values():  # every member validates the batch before any state changes (atomic)
            options = m._format_options()
            fkey = (type(m)._format, tuple(options.items()), m._resolved)
            batch = formats.get(fkey)
            if batch is None:
                batch = formats[fkey] = m._format(preds, target, sample_weight)
            batch = m._weigh(batch)
            m._check_batch(batch)
            skey = m._stats_key()
            key = (fkey, skey, batch.weight is None, m._weighted) if skey is not None else id(m)
            if key not in stats:
                stats[key] = m._batch_states(batch)
            todo.append((m, batch, stats[key]))
        for m, batch, batch_stats in todo:
            m._accumulate(batch, batch_stats, kind)
        if not values:
            return None
        out = {}
        for name, (m, batch, batch_stats) in zip(self.metrics, todo):
            m._forward_cache = to_kind(m._compute(batch_stats, batch.resolved), kind)
            out.update(self._named(name, m._forward_cache))
        return out

    @torch.no_grad()
    def update(self, preds: Any, target: Any, sample_weight: Any = None) -> None:
        """Add one batch to every metric (no autograd graph is built)."""
        self._step(preds, target, False, sample_weight)

    @torch.no_grad()
    def forward(self, preds: Any, target: Any, sample_weight: Any = None) -> dict[str, Any]:
        """``collection(preds, target)``: add the batch to every metric and return each one's value on it."""
        return self._step(preds, target, True, sample_weight)  # type: ignore[return-value]

    def _named(self, name: str, value: Any) -> dict[str, Any]:
        names = self.class_names
        if names is not None and getattr(value, "ndim", 0) == 1:
            if len(value) != len(names):
                raise problem(ConfigError, "class_names", f"to name the {len(value)} classes of `{name}`",
                              f"{len(names)} names", "pass one name per class")
            return {f"{self.prefix}{name}_{c}{self.postfix}": (v.item() if isinstance(v, np.generic) else v)
                    for c, v in zip(names, value)}
        return {f"{self.prefix}{name}{self.postfix}": value}

    def compute(self) -> dict[str, Any]:
        """``{prefix + name + postfix: value}``; per-class values split by ``class_names`` when given."""
        out: dict[str, Any] = {}
        for name, m in self.metrics.items():
            out.update(self._named(name, m.compute()))
        return out

    def reset(self) -> None:
        for m in self.metrics.values():
            m.reset()

    def merge(self, other: MetricCollection) -> MetricCollection:
        if set(other.metrics) != set(self.metrics):
            raise problem(ConfigError, "other", f"to hold the metrics {sorted(self.metrics)}",
                          str(sorted(other.metrics)), "merge collections built alike")
        for name, m in self.metrics.items():
            m.merge(other.metrics[name])
        return self

    def state_dict(self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """Flat ``{"name.state": tensor}``, loadable with ``torch.load(weights_only=True)``."""
        out = {f"{name}.{k}": v for name, m in self.metrics.items() for k, v in m.state_dict().items()}
        if destination is None and not prefix:
            return out
        destination = OrderedDict() if destination is None else destination
        destination.update((prefix + k, v) for k, v in out.items())
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Tensor], strict: bool = True, assign: bool = False) -> None:
        for name, m in self.metrics.items():
            prefix = f"{name}."
            m.load_state_dict({k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)})

    def items(self) -> list[tuple[str, Metric]]:
        """``(prefix + name + postfix, metric)`` pairs (for ``LightningModule.log_dict(collection)``)."""
        return [(f"{self.prefix}{name}{self.postfix}", m) for name, m in self.metrics.items()]

    def keys(self) -> list[str]:
        return [k for k, _ in self.items()]

    def values(self) -> list[Metric]:
        return list(self.metrics.values())

    def __getitem__(self, name: str) -> Metric:
        return self.metrics[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def __repr__(self) -> str:
        return f"MetricCollection({', '.join(f'{k}={m!r}' for k, m in self.metrics.items())})"
