"""Classification metrics, with scikit-learn's definitions.

Shared keywords (each metric takes those that apply to it):

- ``task``: ``"binary"``, ``"multiclass"``, ``"multilabel"`` or None to infer it from the inputs (rules in
  :mod:`almanac.metrics._format`); ``num_classes`` (multiclass) / ``num_labels`` (multilabel).
- ``preds``: labels, or probabilities — ``(N,)`` for binary (probability of class 1), ``(N, C)`` for multiclass,
  ``(N, L)`` for multilabel; extra dimensions ``(N, C, ...)`` are flattened into samples. ``target``: integer
  labels ``(N,)`` or multi-hot ``(N, L)``. Label metrics threshold binary / multilabel probabilities
  (``p > threshold``) and arg-max multiclass scores (ties: the lowest class).
- ``from_logits=False``: pass True when ``preds`` are logits (sigmoid / softmax is applied); probabilities outside
  [0, 1] raise :class:`~almanac.errors.DomainError` otherwise.
- ``average``: ``None`` (binary: the positive class; multiclass / multilabel: ``"micro"``), ``"micro"`` (pool the
  counts of every class, then divide), ``"macro"`` (mean of per-class values), ``"weighted"`` (mean weighted by
  each class's support, tp + fn), ``"none"`` (per-class values). Binary inputs with an explicit average are read
  as two classes, as scikit-learn does.
- ``ignore_index``: samples (multilabel: entries) whose target equals it are left out.
- ``zero_division=0.0``: the value of a per-class ratio whose denominator is 0; ``float("nan")`` leaves such
  classes out of ``"macro"`` / ``"weighted"`` averages (scikit-learn's ``zero_division=np.nan``).
- ``average="samples"`` (multilabel precision, recall, F-beta, F1, IoU, Dice): the ratio of each sample over its
  labels, averaged over samples (scikit-learn's ``average="samples"``).
- ``pos_label=1`` (precision, recall, F-beta, F1): the class scored for binary inputs (0 scores the negative class;
  with ``labels=``, a label such as ``"spam"``).
- ``labels=None`` (counting metrics): the classes in order — class i is ``labels[i]`` — so inputs may hold strings
  or any hashable values (``labels=["cat", "dog", "fox"]``). As scikit-learn's ``labels``, a multiclass subset
  selects the classes reported and averaged, in its order; listed labels absent from the data are allowed, and
  values outside the list still count as the false positives / negatives of the listed classes (the confusion
  matrix, kappa, MCC and balanced accuracy use the listed rows and columns only). Two labels read the inputs as
  binary, ``labels[1]`` the positive class (every value must then be one of them; pass ``task="multiclass"`` for
  a two-label subset).
- ``sample_weight``: ``(N,)`` weights ≥ 0, as scikit-learn's.

Argument order: almanac takes ``preds`` first, scikit-learn ``y_true`` first — ``f1_score(y, p)`` is ``f1(p, y)``.
A swapped call does not fail: it swaps precision and recall (and fp and fn in every count).

All counting metrics keep one state: the confusion matrix — ``(C, C)`` (rows: target, columns: prediction; binary
is C = 2) from one ``bincount`` of ``target * C + pred``, or ``(L, 2, 2)`` per label for multilabel — so streaming,
merging and distributed sync are additions, and a collection of them counts once per batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from almanac._checks import check_choice, check_number
from almanac.errors import ConfigError, UndefinedMetricError, problem
from almanac.metrics._format import Batch, output_kind, to_kind
from almanac.metrics._metric import Metric
from almanac.metrics._registry import evaluate, register

__all__ = [
    "F1",
    "Accuracy",
    "BalancedAccuracy",
    "CalibrationError",
    "CohenKappa",
    "ConfusionMatrix",
    "FBeta",
    "LogLoss",
    "MatthewsCorrcoef",
    "Precision",
    "Recall",
    "accuracy",
    "balanced_accuracy",
    "calibration_error",
    "classification_report",
    "cohen_kappa",
    "confusion_matrix",
    "f1",
    "fbeta",
    "log_loss",
    "matthews_corrcoef",
    "precision",
    "recall",
]

_LABEL_TASKS = ("binary", "multiclass", "multilabel")
_INT64 = torch.int64
_SKLEARN = "scikit-learn: sklearn.metrics.{}"


# -- counting -----------------------------------------------------------------------------------------------------
def confusion_counts(batch: Batch) -> Tensor:
    """The confusion matrix of a label batch: ``(C, C)`` int64 (rows target, columns prediction) from one
    ``bincount`` of ``target * C + pred``, or ``(L, 2, 2)`` per label for multilabel; float64 sums of
    ``sample_weight`` when the batch is weighted."""
    n, w = batch.num_classes, batch.weight
    if batch.task == "multilabel":
        index = batch.target * 2 + batch.preds + torch.arange(0, 4 * n, 4, device=batch.target.device)
        if w is not None:
            w = w[:, None].expand(index.shape)
        if batch.mask is not None:
            index, w = index[batch.mask], (None if w is None else w[batch.mask])
        return torch.bincount(index.reshape(-1), None if w is None else w.reshape(-1), minlength=4 * n).view(n, 2, 2)
    return torch.bincount(batch.preds.add(batch.target, alpha=n), w, minlength=n * n).view(n, n)


def _host(counts: Tensor) -> np.ndarray:
    """Counts as a float64 NumPy array: the C-sized arithmetic after counting costs about a microsecond per op on
    the host, where each tiny tensor op would cost a kernel launch."""
    return counts.detach().cpu().numpy().astype(np.float64)


def _result(value: Any, like: Tensor) -> Tensor:
    """``value`` as a float64 tensor on the device of ``like`` (the state)."""
    out = torch.from_numpy(np.asarray(value, dtype=np.float64))
    return out if like.device.type == "cpu" else out.to(like.device)


def _undefined_if_empty(total: float) -> None:
    if total == 0:
        raise UndefinedMetricError("no sample to score: every sample was ignored (ignore_index) — pass data")


def _counts(cm: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class (tp, fp, fn, tn) from a float64 confusion matrix; UndefinedMetricError when it is empty."""
    if task == "multilabel":
        _undefined_if_empty(cm.sum())
        return cm[:, 1, 1], cm[:, 0, 1], cm[:, 1, 0], cm[:, 0, 0]
    rows = cm.sum(1)
    total = rows.sum()
    _undefined_if_empty(total)
    tp = cm.diagonal()
    fp, fn = cm.sum(0) - tp, rows - tp
    return tp, fp, fn, total - tp - fp - fn


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    """num / den, with ``zero_division`` where den == 0."""
    return np.divide(num, den, out=np.full(np.shape(num), zero_division), where=den != 0)


def _average(num: np.ndarray, den: np.ndarray, support: np.ndarray, average: str,
             zero_division: float) -> np.ndarray:
    """Combine per-class ratios ``num / den`` as ``average`` says (see the module docstring)."""
    if average == "micro":
        return _ratio(num.sum(), den.sum(), zero_division)
    per_class = _ratio(num, den, zero_division)
    if average == "none":
        return per_class
    if math.isnan(zero_division):  # undefined classes are left out
        keep = ~np.isnan(per_class)
        if not keep.any():
            return np.float64(math.nan)
        per_class, support = per_class[keep], support[keep]
    if average == "weighted":
        total = support.sum()
        if total > 0:
            return (per_class * support).sum() / total
    return per_class.sum() / per_class.size


def _drop_ignored(params: dict[str, Any], task: str, average: str, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Leave the class ``ignore_index`` (multiclass, in [0, C)) out of macro / weighted averages: its samples were
    dropped, so it has no support and would count as ``zero_division`` (torchmetrics and scikit-learn leave it
    out too). Per-class values (``"none"``) keep every class; micro sums are unchanged."""
    ignore = params.get("ignore_index")
    if task != "multiclass" or average not in ("macro", "weighted") or ignore is None or not (
            0 <= ignore < columns[0].size):
        return columns
    keep = np.arange(columns[0].size) != ignore
    return tuple(c[keep] for c in columns)


class _StatScores(Metric):
    """Base of the counting metrics: one confusion-matrix state, shared by a collection's counting metrics.

    Subclasses give ``_terms(tp, fp, fn, tn, task) -> (num, den)``, the per-class ratio's numerator and
    denominator, and ``_binary_average`` (what ``average=None`` means for binary inputs)."""

    _binary_average = "binary"  # the positive class

    def _check_params(self, params: dict[str, Any]) -> None:
        super()._check_params(params)
        if params.get("average") == "samples" and params.get("task") not in (None, "multilabel", "segmentation"):
            raise problem(ConfigError, "average", "to be 'samples' only for task='multilabel'",
                          f"task={params.get('task')!r}", "use average='macro' / 'micro' / 'weighted'")
        labels = params.get("labels")
        if labels is not None and len(labels) == 2 and "pos_label" in params and params["pos_label"] in list(labels):
            params["pos_label"] = list(labels).index(params["pos_label"])  # pos_label="spam" with labels=
        if params.get("pos_label", 1) not in (0, 1) or isinstance(params.get("pos_label"), bool):
            raise problem(ConfigError, "pos_label", "to be 0 or 1 (the class scored for binary inputs)",
                          repr(params.get("pos_label")), "pass pos_label=0 to score the negative class")

    def _stats_key(self) -> str | None:
        return None if self.params.get("average") == "samples" else "confmat"

    def _listed(self, resolved: tuple[str, int]) -> int | None:
        """With multiclass ``labels=``: how many classes are listed (the last row / column of the confusion matrix
        counts every other value, scikit-learn's samples outside ``labels``); else None."""
        labels = self.params.get("labels")
        return len(labels) if labels is not None and resolved[0] == "multiclass" else None

    def _matrix(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> np.ndarray:
        """The confusion matrix of the listed classes, as float64 on the host."""
        cm, k = _host(states["confmat"]), self._listed(resolved)
        return cm if k is None else cm[:k, :k]

    def _init_states(self, resolved: tuple[str, int], device: torch.device) -> None:
        task, n = resolved
        shape = (n, 2, 2) if task == "multilabel" else (n, n)
        self.add_state("confmat", torch.zeros(shape, dtype=self._count_dtype, device=device))
        if self.params.get("average") == "samples":
            self.add_state("sample_sum", torch.zeros((), dtype=torch.float64, device=device))
            self.add_state("sample_count", torch.zeros((), dtype=torch.float64, device=device))

    def _sample_states(self, batch: Batch) -> dict[str, Tensor]:
        """``average="samples"``: the sum of each sample's ratio over its labels, and the (weighted) number of
        samples, as scikit-learn's ``average="samples"`` (a sample whose denominator is 0 scores zero_division;
        with ``zero_division=nan`` it is left out)."""
        if batch.task != "multilabel":
            raise problem(ConfigError, "average", "to be 'samples' only for multilabel inputs",
                          f"{batch.task} inputs", "use average='macro' / 'micro' / 'weighted'")
        p, t = batch.preds, batch.target
        mask = batch.mask if batch.mask is not None else torch.ones_like(t, dtype=torch.bool)
        tp = (p * t * mask).sum(1).double()
        fp = (p * (1 - t) * mask).sum(1).double()
        fn = ((1 - p) * t * mask).sum(1).double()
        tn = ((1 - p) * (1 - t) * mask).sum(1).double()
        num, den = self._terms(tp, fp, fn, tn, "multilabel")
        zd = float(self.params["zero_division"])
        ratio = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), zd)
        w = torch.ones_like(ratio) if batch.weight is None else batch.weight
        if math.isnan(zd):
            w = torch.where(torch.isnan(ratio), 0.0, w)
            ratio = torch.nan_to_num(ratio)
        return {"sample_sum": (ratio * w).sum(), "sample_count": w.sum()}

    # -- the streaming fast path ---------------------------------------------------------------------------------
    # The common streaming case — int64 label tensors (N,) or finite (N, C) multiclass scores, after the first batch,
    # with no weights, ignore_index or labels= — skips the general formatting and validates with one aminmax over
    # the predicted labels and the target together (both in [0, C); arg-maxed scores are in range by construction).
    # update() then counts the batch into the state in place with one index_put_(accumulate=True) at (target, pred);
    # forward() counts the batch with one bincount (its value needs the batch's own counts). Any other input, a bad
    # one, or tensors on another device take the general path, which then names the error or moves them.
    def _fast_labels(self, preds: Any, target: Any) -> Tensor | None:
        """The batch's predicted labels, validated with its target, when the fast path applies; else None."""
        n = self._fast_n
        if (n is None or type(target) is not Tensor or type(preds) is not Tensor or target.dtype is not _INT64
                or target.ndim != 1):
            return None
        if preds.dtype is _INT64:
            if preds.shape != target.shape:
                return None
            labels = preds
        elif self._resolved[0] == "multiclass" and preds.is_floating_point() and preds.shape == (target.shape[0], n):
            lo, hi = torch.aminmax(preds.detach())
            if not (math.isfinite(lo.item()) and math.isfinite(hi.item())):
                return None
            labels = preds.detach().argmax(1)
        else:
            return None
        try:
            lo, hi = torch.aminmax(torch.cat((labels, target)))
        except RuntimeError:  # an empty batch, or preds and target on different devices
            return None
        return labels if lo.item() >= 0 and hi.item() < n else None

    def _start(self, resolved: tuple[str, int], device: torch.device, weighted: bool = False) -> None:
        super()._start(resolved, device, weighted)
        eligible = (not weighted and resolved[0] != "multilabel" and self.params.get("ignore_index") is None
                    and self.params.get("labels") is None and self._stats_key() == "confmat")
        self._fast_n = resolved[1] if eligible else None
        if eligible:
            self._one = torch.ones((), dtype=torch.int64, device=self._states["confmat"].device)  # update() adds it

    def reset(self) -> None:
        super().reset()
        self._fast_n: int | None = None  # C once the stream may take the fast path

    def _apply(self, fn: Any, recurse: bool = True) -> Metric:
        out = super()._apply(fn, recurse)
        if self._fast_n is not None:
            self._one = self._one.to(self._states["confmat"].device)
        return out

    def update(self, preds: Any, target: Any, sample_weight: Any = None) -> None:
        labels = None if sample_weight is not None else self._fast_labels(preds, target)
        if labels is not None:
            try:
                self._states["confmat"].index_put_((target, labels), self._one, accumulate=True)
            except RuntimeError:  # a batch on another device than the states: the general path moves it
                labels = None
        if labels is None:
            super().update(preds, target, sample_weight)
            return
        self._kind = "tensor64" if preds.dtype is torch.float64 else "tensor"

    def forward(self, preds: Any, target: Any, sample_weight: Any = None) -> Any:
        labels = None if sample_weight is not None else self._fast_labels(preds, target)
        if labels is None:
            return super().forward(preds, target, sample_weight)
        n = self._fast_n
        counts = torch.bincount(labels.add(target, alpha=n), None, n * n).view(n, n)
        try:
            self._states["confmat"].add_(counts)
        except RuntimeError:  # a batch on another device than the states: the general path moves it
            return super().forward(preds, target, sample_weight)
        self._kind = kind = output_kind(preds, target)
        self._forward_cache = value = to_kind(self._compute({"confmat": counts}, self._resolved), kind)
        return value

    def _batch_states(self, batch: Batch) -> dict[str, Tensor]:
        if self.params.get("average") == "samples":
            return {"confmat": confusion_counts(batch), **self._sample_states(batch)}
        return {"confmat": confusion_counts(batch)}

    def _terms(self, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray,
               task: str) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        task = resolved[0]
        tp, fp, fn, tn = _counts(_host(states["confmat"]), task)
        k = self._listed(resolved)
        if k is not None:  # the listed classes only; samples of other values still count as their fp / fn
            tp, fp, fn, tn = tp[:k], fp[:k], fn[:k], tn[:k]
        num, den = self._terms(tp, fp, fn, tn, task)
        average, zd = self.params["average"], self.params["zero_division"]
        if average == "samples":
            count = float(states["sample_count"])
            if count == 0:
                raise UndefinedMetricError("no sample to score (average='samples'): pass data")
            return _result(float(states["sample_sum"]) / count, states["confmat"])
        if average is None:
            average = self._binary_average if task == "binary" else "micro"
        if average == "binary":
            k = self.params.get("pos_label", 1)
            return _result(_ratio(num[k], den[k], zd), states["confmat"])
        num, den, support = _drop_ignored(self.params, task, average, num, den, tp + fn)
        return _result(_average(num, den, support, average, zd), states["confmat"])


# -- accuracy -----------------------------------------------------------------------------------------------------
class Accuracy(_StatScores):
    """Streaming :func:`accuracy`."""

    _binary_average = "micro"

    def _check_params(self, params: dict[str, Any]) -> None:
        super()._check_params(params)
        if params.get("average") == "samples":
            raise problem(ConfigError, "average", "to be 'micro', 'macro', 'weighted' or 'none' for accuracy",
                          "'samples'", "use f1 / precision / recall / iou for per-sample averages")
        if params["top_k"] > 1 and params["task"] not in (None, "multiclass"):
            raise problem(ConfigError, "top_k", "to be 1 unless task='multiclass'", str(params["top_k"]),
                          "pass top_k=1, or task='multiclass' with (N, C) scores")

    def _format_options(self) -> dict[str, Any]:
        options = super()._format_options()
        if self.params["top_k"] > 1:
            options["needs"] = "scores"
        return options

    def _stats_key(self) -> str | None:
        return "confmat" if self.params["top_k"] == 1 else None

    def _init_states(self, resolved: tuple[str, int], device: torch.device) -> None:
        if self.params["top_k"] == 1:
            super()._init_states(resolved, device)
            return
        for name in ("correct", "support"):
            self.add_state(name, torch.zeros(resolved[1], dtype=self._count_dtype, device=device))

    def _batch_states(self, batch: Batch) -> dict[str, Tensor]:
        k = self.params["top_k"]
        if k == 1:
            return super()._batch_states(batch)
        if batch.task != "multiclass" or not batch.scores:
            raise problem(ConfigError, "top_k", "to be 1 unless preds are multiclass (N, C) scores",
                          f"top_k={k} with {batch.task} {'scores' if batch.scores else 'labels'}",
                          "pass (N, C) scores, or top_k=1")
        n = batch.num_classes
        if k > n:
            raise problem(ConfigError, "top_k", f"to be at most num_classes={n}", str(k), f"pass top_k ≤ {n}")
        # the target's rank in the order (score descending, class ascending): arg-max's order at k = 1, and a hit
        # at k stays a hit at k + 1 (topk breaks ties arbitrarily, so it would not)
        scores, target = batch.preds, batch.target[:, None]
        own = scores.gather(1, target)
        ahead = (scores > own) | ((scores == own) & (torch.arange(n, device=scores.device) < target))
        hit = ahead.sum(1) < k
        w = batch.weight
        return {"correct": torch.bincount(batch.target[hit], None if w is None else w[hit], minlength=n),
                "support": torch.bincount(batch.target, w, minlength=n)}

    def _terms(self, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray,
               task: str) -> tuple[np.ndarray, np.ndarray]:
        if task == "multilabel":
            return tp + tn, tp + tn + fp + fn
        return tp, tp + fn

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        if self.params["top_k"] == 1:
            return super()._compute(states, resolved)
        correct, support = _host(states["correct"]), _host(states["support"])
        _undefined_if_empty(support.sum())
        average = self.params["average"] or "micro"
        correct, support = _drop_ignored(self.params, resolved[0], average, correct, support)
        return _result(_average(correct, support, support, average, self.params["zero_division"]),
                       states["correct"])


@register(Accuracy, summary="Fraction of correct predictions (top-k: target among the k highest scores).",
          formula="micro: Σ_c tp_c / N; macro: mean_c tp_c / (tp_c + fn_c); multilabel: (tp + tn) / N per label",
          tasks=_LABEL_TASKS, needs="labels", higher_is_better=True, range=(0.0, 1.0),
          references=(_SKLEARN.format("accuracy_score"), _SKLEARN.format("top_k_accuracy_score"),
                      _SKLEARN.format("hamming_loss")))
def accuracy(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    zero_division: float = 0.0,
    top_k: int = 1,
) -> Any:
    """Accuracy: the fraction of correct predictions.

    Micro is the default; macro is the per-class recall, as torchmetrics; weighted by support equals micro. Binary
    ``average=None`` is the plain accuracy. Multilabel accuracy is per label — micro is ``1 − hamming_loss``, not
    scikit-learn's subset accuracy. ``top_k > 1`` (multiclass scores): a sample is correct when its target is among
    its ``k`` highest scores.

    Args: ``preds``, ``target`` and the keywords are described in :mod:`almanac.metrics.classification`.

    Returns: a scalar (a tensor for tensor inputs, else a float), or per-class values for ``average="none"``.

    >>> accuracy([0, 2, 1, 2], [0, 1, 1, 2])
    0.75
    >>> accuracy([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6]], [1, 0], top_k=2)
    0.5
    """
    return evaluate(Accuracy, preds, target, locals())


# -- precision, recall, F-beta --------------------------------------------------------------------------------------
class Precision(_StatScores):
    """Streaming :func:`precision`."""

    def _terms(self, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray,
               task: str) -> tuple[np.ndarray, np.ndarray]:
        return tp, tp + fp


class Recall(_StatScores):
    """Streaming :func:`recall`."""

    def _terms(self, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray,
               task: str) -> tuple[np.ndarray, np.ndarray]:
        return tp, tp + fn


class FBeta(_StatScores):
    """Streaming :func:`fbeta`."""

    def _check_params(self, params: dict[str, Any]) -> None:
        super()._check_params(params)
        check_number(params.get("beta", 1.0), "beta", low=0.0, high=math.inf, low_open=True, high_open=True)

    def _terms(self, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray,
               task: str) -> tuple[np.ndarray, np.ndarray]:
        b2 = self.params.get("beta", 1.0) ** 2
        return (1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp


class F1(FBeta):
    """Streaming :func:`f1`."""


_PRF_FACTS = {"tasks": _LABEL_TASKS, "needs": "labels", "higher_is_better": True, "range": (0.0, 1.0)}


@register(Precision, summary="Fraction of predicted positives that are positive.", formula="tp / (tp + fp)",
          references=(_SKLEARN.format("precision_score"),), **_PRF_FACTS)
def precision(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    zero_division: float = 0.0,
    pos_label: int = 1,
) -> Any:
    """Precision: the fraction of predicted positives that are positive.

    Per class, averaged as ``average`` says.

    Args and returns: see :mod:`almanac.metrics.classification`.

    >>> precision([1, 1, 0, 1], [1, 0, 0, 1])
    0.6666666666666666
    """
    return evaluate(Precision, preds, target, locals())


@register(Recall, summary="Fraction of positives that are predicted positive (sensitivity).",
          formula="tp / (tp + fn)", references=(_SKLEARN.format("recall_score"),), **_PRF_FACTS)
def recall(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    zero_division: float = 0.0,
    pos_label: int = 1,
) -> Any:
    """Recall (sensitivity, true positive rate): the fraction of positives predicted positive.

    Per class, averaged as ``average`` says.

    Args and returns: see :mod:`almanac.metrics.classification`.

    >>> recall([1, 0, 0, 1], [1, 1, 0, 1])
    0.6666666666666666
    """
    return evaluate(Recall, preds, target, locals())


@register(FBeta, summary="Weighted harmonic mean of precision and recall (recall counts beta times as much).",
          formula="(1 + β²) tp / ((1 + β²) tp + β² fn + fp)",
          references=(_SKLEARN.format("fbeta_score"), "van Rijsbergen, Information Retrieval (1979)"),
          **_PRF_FACTS)
def fbeta(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    beta: float = 1.0,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    zero_division: float = 0.0,
    pos_label: int = 1,
) -> Any:
    """F-beta score: the weighted harmonic mean of precision and recall.

    Per class, in scikit-learn ≥ 1.3's form, so a class with tp = 0 but some fp or fn scores 0, and
    ``zero_division`` applies only when tp = fp = fn = 0.

    Args: ``beta > 0`` (finite); the rest as in :mod:`almanac.metrics.classification`.

    >>> fbeta([1, 1, 0, 0], [1, 0, 1, 0], beta=2.0)
    0.5
    """
    return evaluate(FBeta, preds, target, locals())


@register(F1, summary="Harmonic mean of precision and recall.", formula="2 tp / (2 tp + fp + fn)",
          references=(_SKLEARN.format("f1_score"),), **_PRF_FACTS)
def f1(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    zero_division: float = 0.0,
    pos_label: int = 1,
) -> Any:
    """F1 score: the harmonic mean of precision and recall.

    Per class, averaged as ``average`` says.

    Args and returns: see :mod:`almanac.metrics.classification`.

    >>> f1([1, 0, 1, 1], [1, 0, 0, 1])
    0.8
    >>> f1([0, 1, 2, 2], [0, 1, 1, 2], average="macro")
    0.7777777777777777
    """
    return evaluate(F1, preds, target, locals())


# -- confusion matrix ---------------------------------------------------------------------------------------------
class ConfusionMatrix(_StatScores):
    """Streaming :func:`confusion_matrix`."""

    def _check_params(self, params: dict[str, Any]) -> None:
        super()._check_params(params)
        check_choice(params["normalize"], "normalize", (None, "true", "pred", "all"))

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        cm, k = states["confmat"], self._listed(resolved)
        if k is not None:
            cm = cm[:k, :k]
        norm = self.params["normalize"]
        if norm is None:
            return cm.clone()
        counts = _host(cm)
        total = counts.sum(axis={"true": (-1,), "pred": (-2,), "all": (-2, -1)}[norm], keepdims=True)
        return _result(counts / np.where(total == 0, 1.0, total), cm)  # empty rows / columns stay 0 (scikit-learn)


@register(ConfusionMatrix, summary="Counts of (true class, predicted class) pairs.",
          formula="M[i, j] = #{n : target_n = i, pred_n = j}", tasks=_LABEL_TASKS, needs="labels",
          higher_is_better=True, range=(0.0, math.inf),
          references=(_SKLEARN.format("confusion_matrix"), _SKLEARN.format("multilabel_confusion_matrix")))
def confusion_matrix(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    normalize: str | None = None,
) -> Any:
    """Confusion matrix: rows are true classes, columns predicted classes.

    ``(C, C)`` (binary: 2 × 2), multilabel ``(L, 2, 2)`` with ``[[tn, fp], [fn, tp]]`` per label. ``normalize``:
    None (int64 counts), ``"true"`` (rows sum to 1), ``"pred"`` (columns), ``"all"``; an empty row or column stays
    0.

    Returns: an int64 tensor / NumPy array of counts, float when normalised. ``higher_is_better`` in its spec is
    only nominal (the diagonal).

    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 1, 1]])
    """
    return evaluate(ConfusionMatrix, preds, target, locals())


# -- balanced accuracy, MCC, kappa ----------------------------------------------------------------------------------
class BalancedAccuracy(_StatScores):
    """Streaming :func:`balanced_accuracy`."""

    def _check_params(self, params: dict[str, Any]) -> None:
        super()._check_params(params)
        if not isinstance(params["adjusted"], bool):
            raise problem(ConfigError, "adjusted", "to be True or False", repr(params["adjusted"]),
                          "pass adjusted=True to rescale chance to 0")

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        tp, _, fn, _ = _counts(self._matrix(states, resolved), resolved[0])
        support = tp + fn
        present = support > 0
        recall_c = tp[present] / support[present]  # classes absent from the target are left out, as scikit-learn
        score = recall_c.mean()
        if self.params["adjusted"]:
            if recall_c.size < 2:
                raise UndefinedMetricError("adjusted balanced accuracy is undefined with a single class in the "
                                           "target (chance level is 1) — pass adjusted=False or more classes")
            chance = 1.0 / recall_c.size
            score = (score - chance) / (1 - chance)
        return _result(score, states["confmat"])


@register(BalancedAccuracy, summary="Mean of per-class recall over the classes present in the target.",
          formula="mean_{c : support_c > 0} tp_c / (tp_c + fn_c)", tasks=("binary", "multiclass"), needs="labels",
          higher_is_better=True, range=(0.0, 1.0),
          references=(_SKLEARN.format("balanced_accuracy_score"),
                      "Brodersen et al., The balanced accuracy and its posterior distribution (ICPR 2010)"))
def balanced_accuracy(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    adjusted: bool = False,
) -> Any:
    """Balanced accuracy: the mean recall of the classes present in the target.

    ``adjusted=True`` rescales it so that chance is 0: ``(score − 1/K) / (1 − 1/K)`` with K the number of classes
    present (it can then be negative, down to −1/(K − 1)).

    Args and returns: see :mod:`almanac.metrics.classification`.

    >>> balanced_accuracy([0, 0, 0, 1], [0, 0, 1, 1])
    0.75
    """
    return evaluate(BalancedAccuracy, preds, target, locals())


class MatthewsCorrcoef(_StatScores):
    """Streaming :func:`matthews_corrcoef`."""

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        cm = self._matrix(states, resolved)
        t_sum, p_sum = cm.sum(1), cm.sum(0)
        n = cm.sum()
        _undefined_if_empty(n)
        cov_tp = cm.trace() * n - t_sum @ p_sum
        cov_pp = n * n - p_sum @ p_sum
        cov_tt = n * n - t_sum @ t_sum
        denom = cov_pp * cov_tt
        value = 0.0 if denom == 0 else cov_tp / math.sqrt(denom)  # 0 when one side is constant (scikit-learn)
        return _result(value, states["confmat"])


@register(MatthewsCorrcoef, summary="Correlation between predicted and true labels (phi coefficient, multiclass "
          "R_K).", formula="(c·N − Σ_k t_k p_k) / sqrt((N² − Σ_k p_k²)(N² − Σ_k t_k²))",
          tasks=("binary", "multiclass"), needs="labels", higher_is_better=True, range=(-1.0, 1.0),
          references=(_SKLEARN.format("matthews_corrcoef"),
                      "Matthews, Comparison of the predicted and observed secondary structure of T4 phage lysozyme "
                      "(1975)", "Gorodkin, Comparing two K-category assignments by a "
                      "K-category correlation coefficient (2004)"))
def matthews_corrcoef(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
) -> Any:
    """Matthews correlation coefficient (binary: the phi coefficient; multiclass: Gorodkin's R_K).

    c is the correct count, t_k / p_k the true / predicted count of class k. 0 when the predictions or the targets
    hold a single class (as scikit-learn).

    Args and returns: see :mod:`almanac.metrics.classification`.

    >>> round(matthews_corrcoef([1, 1, 0, 0], [1, 0, 0, 0]), 4)
    0.5774
    """
    return evaluate(MatthewsCorrcoef, preds, target, locals())


class CohenKappa(_StatScores):
    """Streaming :func:`cohen_kappa`."""

    def _check_params(self, params: dict[str, Any]) -> None:
        super()._check_params(params)
        check_choice(params["weights"], "weights", (None, "linear", "quadratic"))
        if params["fallback"] is not None:
            check_number(params["fallback"], "fallback", low=-1.0, high=1.0)

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        cm = self._matrix(states, resolved)
        total = cm.sum()
        _undefined_if_empty(total)
        expected = np.outer(cm.sum(1), cm.sum(0)) / total
        i = np.arange(cm.shape[0], dtype=np.float64)
        distance = np.abs(i[:, None] - i[None, :])
        weights = {None: (distance > 0) * 1.0, "linear": distance, "quadratic": distance**2}[self.params["weights"]]
        denom = (weights * expected).sum()
        if denom == 0:
            if self.params["fallback"] is None:
                raise UndefinedMetricError("Cohen's kappa is undefined: the predictions and the target agree on a "
                                           "single class only (chance agreement is 1) — pass fallback=<value>")
            return _result(float(self.params["fallback"]), states["confmat"])
        return _result(1 - (weights * cm).sum() / denom, states["confmat"])


@register(CohenKappa, summary="Agreement between predicted and true labels beyond chance.",
          formula="1 − Σ w_ij M_ij / Σ w_ij E_ij, E = outer(row sums, column sums) / N",
          tasks=("binary", "multiclass"), needs="labels", higher_is_better=True, range=(-1.0, 1.0),
          references=(_SKLEARN.format("cohen_kappa_score"), "Cohen, A coefficient of agreement for nominal "
                      "scales (1960)"))
def cohen_kappa(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    weights: str | None = None,
    fallback: float | None = None,
) -> Any:
    """Cohen's kappa: agreement of predictions with the target, corrected for chance.

    M is the confusion matrix and the weights are ``w_ij = [i ≠ j]`` (None), ``|i − j|`` ("linear") or ``(i − j)²``
    ("quadratic").

    Undefined when chance agreement is perfect (both sides a single, identical class): raises
    :class:`~almanac.errors.UndefinedMetricError` unless ``fallback`` (a value in [-1, 1]) is given.

    >>> round(cohen_kappa([0, 1, 1, 0], [0, 1, 0, 0]), 4)
    0.5
    """
    return evaluate(CohenKappa, preds, target, locals())


# -- probabilistic ------------------------------------------------------------------------------------------------
class LogLoss(Metric):
    """Streaming :func:`log_loss`."""

    def _init_states(self, resolved: tuple[str, int], device: torch.device) -> None:
        self.add_state("total", torch.zeros((), dtype=torch.float64, device=device))
        self.add_state("count", torch.zeros((), dtype=self._count_dtype, device=device))

    def _batch_states(self, batch: Batch) -> dict[str, Tensor]:
        p, y = batch.preds, batch.target
        eps = torch.finfo(p.dtype).eps
        # binary / multilabel: 1 − p first, then clip, in scikit-learn's order
        p_true = p.gather(1, y[:, None]).squeeze(1) if batch.task == "multiclass" else torch.where(y == 1, p, 1 - p)
        losses = -torch.log(p_true.clamp(eps, 1 - eps))
        w = batch.weight
        if w is not None and losses.ndim == 2:
            w = w[:, None].expand(losses.shape)
        if batch.mask is not None:
            losses, w = losses[batch.mask], (None if w is None else w[batch.mask])
        if w is not None:
            return {"total": (losses.double() * w).sum(), "count": w.sum()}
        return {"total": losses.sum(dtype=torch.float64), "count": torch.tensor(losses.numel(), device=p.device)}

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        if states["count"].item() == 0:
            raise UndefinedMetricError("no sample to score: every sample was ignored (ignore_index) or weighs 0 — "
                                       "pass data")
        return states["total"] / states["count"]


@register(LogLoss, summary="Mean negative log-likelihood of the true labels under the predicted probabilities.",
          formula="−mean_n log clip(p_n[y_n], ε, 1 − ε), ε = machine epsilon of the dtype",
          tasks=_LABEL_TASKS, needs="probabilities", higher_is_better=False, range=(0.0, math.inf),
          differentiable=True, references=(_SKLEARN.format("log_loss"), "Bishop, Pattern Recognition and Machine "
                                           "Learning (2006), p. 209"))
def log_loss(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    from_logits: bool = False,
    ignore_index: int | None = None,
) -> Any:
    """Log loss (cross-entropy of the predicted probabilities), natural log.

    ε is the machine epsilon of ``preds``' dtype, as scikit-learn ≥ 1.5 (binary: ``p[1] = p``, ``p[0] = 1 − p``;
    rows are not renormalised). Multilabel: the mean binary log loss over every (sample, label) entry.
    ``from_logits=True`` applies sigmoid / softmax first.

    Args: probabilities ``preds`` (never hard labels); see :mod:`almanac.metrics.classification`.

    >>> round(log_loss([0.9, 0.2, 0.6], [1, 0, 1]), 4)
    0.2798
    """
    return evaluate(LogLoss, preds, target, locals())


class CalibrationError(Metric):
    """Streaming :func:`calibration_error`."""

    def _check_params(self, params: dict[str, Any]) -> None:
        super()._check_params(params)
        check_number(params["n_bins"], "n_bins", low=1, integer=True)
        check_choice(params["norm"], "norm", ("l1", "l2", "max"))

    def _init_states(self, resolved: tuple[str, int], device: torch.device) -> None:
        for name in ("count", "confidence", "correct"):
            self.add_state(name, torch.zeros(self.params["n_bins"] + 1, dtype=torch.float64, device=device))

    def _batch_states(self, batch: Batch) -> dict[str, Tensor]:
        if batch.task == "multiclass":
            confidence, label = batch.preds.max(dim=1)
            correct = (label == batch.target).double()
        else:
            confidence, correct = batch.preds, batch.target.double()
        n_bins = self.params["n_bins"]
        # bins in float64 for float64 inputs, else float32 (exact for float16 / bfloat16 values): edges such as
        # 1/15 rounded to bfloat16 would put the same numbers in other bins
        dtype = torch.float64 if confidence.dtype == torch.float64 else torch.float32
        confidence = confidence.to(dtype)
        edges = torch.linspace(0, 1, n_bins + 1, dtype=dtype, device=confidence.device)  # as torchmetrics
        # as torchmetrics: bin b holds [b/K, (b+1)/K); the extra last bin holds confidence exactly 1
        index = torch.bucketize(confidence, edges, right=True) - 1
        size = n_bins + 1
        return {"count": torch.bincount(index, minlength=size).double(),
                "confidence": torch.bincount(index, weights=confidence.double(), minlength=size),
                "correct": torch.bincount(index, weights=correct, minlength=size)}

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        count = _host(states["count"])
        total = count.sum()
        _undefined_if_empty(total)
        gap = np.abs(_host(states["correct"]) - _host(states["confidence"])) / np.where(count == 0, 1.0, count)
        share = count / total
        norm = self.params["norm"]
        if norm == "l1":
            return _result((gap * share).sum(), states["count"])
        return _result(gap.max() if norm == "max" else math.sqrt((gap**2 * share).sum()), states["count"])


@register(CalibrationError, summary="Top-label expected calibration error: the gap between confidence and "
          "accuracy, over equal-width confidence bins.", formula="Σ_b (n_b / N) |acc_b − conf_b|  (norm='l1')",
          tasks=("binary", "multiclass"), needs="probabilities", higher_is_better=False, range=(0.0, 1.0),
          references=("torchmetrics: CalibrationError", "Guo et al., On Calibration of Modern Neural Networks "
                      "(ICML 2017)", "Naeini et al., Obtaining Well Calibrated Probabilities Using Bayesian "
                      "Binning (AAAI 2015)"))
def calibration_error(
    preds: Any,
    target: Any,
    *,
    task: str | None = None,
    num_classes: int | None = None,
    from_logits: bool = False,
    ignore_index: int | None = None,
    n_bins: int = 15,
    norm: str = "l1",
) -> Any:
    """Expected calibration error (top-label), as torchmetrics' binary / multiclass ``calibration_error``.

    Bins of equal width on [0, 1] (``n_bins``, plus one bin for confidence exactly 1), ``acc_b`` and ``conf_b`` the
    mean correctness and confidence in bin b and ``n_b`` its size. ``"l1"`` is the ECE; ``"l2"``: ``sqrt(Σ_b (n_b/N)
    (acc_b − conf_b)²)``; ``"max"``: ``max_b |acc_b − conf_b|`` (MCE). Binary: confidence is ``p`` and correctness
    the target (class 1); multiclass: confidence is the top probability and correctness whether its class is the
    target. States are per-bin sums, so it streams and merges exactly.

    >>> round(calibration_error([0.9, 0.8, 0.3, 0.6], [1, 1, 0, 0], n_bins=2), 4)
    0.15
    """
    return evaluate(CalibrationError, preds, target, locals())


# -- report ---------------------------------------------------------------------------------------------------------
def classification_report(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    labels: Any = None,
    target_names: Any = None,
    digits: int = 2,
    output_dict: bool = False,
    zero_division: float = 0.0,
) -> Any:
    """Precision, recall, F1 and support per class, with accuracy and macro / weighted averages — the text table or
    the dict of ``sklearn.metrics.classification_report``, from one confusion matrix.

    Argument order: almanac takes ``preds`` first; scikit-learn's ``classification_report(y_true, y_pred)`` is
    ``classification_report(y_pred, y_true)`` here (a swapped call gives precision and recall swapped).

    Args: ``preds``, ``target``, ``sample_weight`` and the classification keywords as in :func:`f1` (binary or
    multiclass); ``target_names``: one name per class listed (the classes present in ``target`` or ``preds``, or
    all ``num_classes`` when as many names are given); ``digits``: decimals of the text; ``output_dict``: return
    ``{name: {"precision", "recall", "f1-score", "support"}, "accuracy": ..., "macro avg": ..., "weighted avg":
    ...}`` instead of the text; ``zero_division``: the value of a ratio whose denominator is 0.

    >>> print(classification_report([0, 0, 2, 2, 1], [0, 1, 2, 2, 0], target_names=["ant", "bird", "cat"]))
                  precision    recall  f1-score   support
    <BLANKLINE>
             ant       0.50      0.50      0.50         2
            bird       0.00      0.00      0.00         1
             cat       1.00      1.00      1.00         2
    <BLANKLINE>
        accuracy                           0.60         5
       macro avg       0.50      0.50      0.50         5
    weighted avg       0.60      0.60      0.60         5
    <BLANKLINE>

    Reference: scikit-learn ``classification_report``.
    """
    check_number(digits, "digits", low=0, integer=True)
    metric = ConfusionMatrix(task=task, num_classes=num_classes, threshold=threshold, from_logits=from_logits,
                             ignore_index=ignore_index, labels=labels)
    if metric.params["task"] == "multilabel":
        raise problem(ConfigError, "task", "to be 'binary' or 'multiclass' for classification_report",
                      "'multilabel'", "report each label with f1(..., average='none') and friends")
    batch = metric._format(preds, target, sample_weight)
    if batch.task == "multilabel":
        raise problem(ConfigError, "task", "to be 'binary' or 'multiclass' for classification_report",
                      "multilabel inputs", "pass task='multiclass' with class labels")
    cm = _host(confusion_counts(batch))
    _undefined_if_empty(cm.sum())
    rows, cols, tp = cm.sum(1), cm.sum(0), cm.diagonal()
    k = metric._listed(batch.resolved)
    others = k is not None and cm[k].sum() + cm[:, k].sum() > 0  # samples outside labels=: micro avg, not accuracy
    if target_names is None and labels is not None:
        target_names = [str(label) for label in labels]
    names = None if target_names is None else [str(n) for n in target_names]
    listed = np.arange(k) if k is not None else np.arange(cm.shape[0]) if names is not None and len(
        names) == cm.shape[0] else np.flatnonzero((rows + cols) > 0)
    if names is None:
        names = [str(c) for c in listed]
    elif len(names) != listed.size:
        raise problem(ConfigError, "target_names", f"to name the {listed.size} classes listed ({listed.tolist()})",
                      f"{len(names)} names", f"pass {listed.size} names, or {cm.shape[0]} for every class")
    zd = float(zero_division)
    precision = _ratio(tp[listed], cols[listed], zd)
    recall = _ratio(tp[listed], rows[listed], zd)
    f1_score = _ratio(2 * tp[listed], rows[listed] + cols[listed], zd)
    support = rows[listed]
    total = support.sum()
    weighted = batch.weight is not None

    def count(x: float) -> float | int:
        return float(x) if weighted else int(x)

    report: dict[str, Any] = {}
    for i, name in enumerate(names):
        report[name] = {"precision": float(precision[i]), "recall": float(recall[i]), "f1-score": float(f1_score[i]),
                        "support": float(support[i])}
    if others:  # scikit-learn: the micro average of the listed classes
        micro_p, micro_r = _ratio(tp[listed].sum(), cols[listed].sum(), zd), _ratio(tp[listed].sum(),
                                                                                    rows[listed].sum(), zd)
        micro_f = _ratio(2 * tp[listed].sum(), rows[listed].sum() + cols[listed].sum(), zd)
        report["micro avg"] = {"precision": float(micro_p), "recall": float(micro_r), "f1-score": float(micro_f),
                               "support": float(total)}
    else:
        report["accuracy"] = float(tp.sum() / cm.sum())
    for label, w in (("macro avg", np.ones_like(support)), ("weighted avg", support)):
        w = w if w.sum() > 0 else np.ones_like(w)
        report[label] = {k: float((v * w).sum() / w.sum()) for k, v in (("precision", precision),
                                                                         ("recall", recall), ("f1-score", f1_score))}
        report[label]["support"] = float(total)
    if output_dict:
        return report
    width = max(len(n) for n in [*names, "weighted avg"])
    head = f"{'':>{width}} " + "".join(f" {h:>9}" for h in ("precision", "recall", "f1-score", "support"))
    lines = [head, ""]
    for name in names:
        r = report[name]
        lines.append(f"{name:>{width}} " + "".join(f" {r[k]:>9.{digits}f}" for k in ("precision", "recall",
                                                                                        "f1-score"))
                     + f" {count(r['support']):>9}")
    lines.append("")
    if not others:
        lines.append(f"{'accuracy':>{width}} " + f" {'':>9}" * 2 + f" {report['accuracy']:>9.{digits}f}"
                     + f" {count(total):>9}")
    for label in ("micro avg", "macro avg", "weighted avg") if others else ("macro avg", "weighted avg"):
        r = report[label]
        lines.append(f"{label:>{width}} " + "".join(f" {r[k]:>9.{digits}f}" for k in ("precision", "recall",
                                                                                         "f1-score"))
                     + f" {count(total):>9}")
    return "\n".join(lines) + "\n"
