"""Ranking metrics: ``auroc``, ``average_precision`` (alias ``auc_pr``), ``roc_curve`` and ``pr_curve``.

Same definitions as scikit-learn (``roc_auc_score``, ``average_precision_score``, ``roc_curve``,
``precision_recall_curve``), ties included; multiclass is one-vs-rest, multilabel is per label.

Scores. Binary and multilabel scores are probabilities in [0, 1], or any finite reals with ``from_logits=True``;
a monotone map changes no ranking, so logits are ranked as they are (no sigmoid: large logits would saturate into
ties). Multiclass scores ``(N, C)`` are probabilities whose rows sum to 1 (as scikit-learn requires), or logits with
``from_logits=True``, turned into probabilities by a softmax — which does change one-vs-rest rankings.

Exact by default. The streaming state keeps every score and label (a ``"cat"`` state, all-gathered under
``torch.distributed``); the kernels of :mod:`._ranking_kernels` compute the exact value. ``bins=K`` instead keeps,
per class, K positive and K negative counts (a ``"sum"`` state: memory independent of the stream, merged by
addition). Bin edges are fixed: equal-width in the bits of ``p`` below ½ and of ``1 − p`` above (see
:func:`~almanac.metrics._ranking_kernels.bin_index`), so crowded scores near 0 and 1 stay resolved. The binned
value treats each bin as one tie group; ``error_bound()`` of the streaming metric gives the worst-case
|binned − exact| from the counts alone (AUROC: ½·Σ_b pos_b·neg_b / (P·N); AP: see
:func:`~almanac.metrics._ranking_kernels.binned_error_bounds`). With ``bins``, curve thresholds are the bins'
lower edges as probabilities (or as logits, for binary and multilabel logits): binned curves are points of the
exact curve, at those thresholds only (up to the float32 rounding of float64 scores), so they carry no error bound.

Undefined values: AUROC and the ROC curve need both classes, AP and the PR curve need a positive. Otherwise they
raise :class:`~almanac.errors.UndefinedMetricError` — or, for ``auroc`` and ``average_precision``, return the
value passed as ``fallback=`` (per class, before averaging), as R² does for a constant target.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from almanac._checks import check_number
from almanac.errors import ConfigError, DomainError, UndefinedMetricError, problem
from almanac.metrics import _ranking_kernels as K
from almanac.metrics._format import Batch, check_classification_options, format_classification, to_kind
from almanac.metrics._metric import Metric
from almanac.metrics._registry import evaluate, register

__all__ = [
    "AUROC",
    "AveragePrecision",
    "PRCurve",
    "ROCCurve",
    "auroc",
    "average_precision",
    "pr_curve",
    "roc_curve",
]

_TASKS = ("binary", "multiclass", "multilabel")
_ROW_SUM_TOLERANCE = 1e-4


# -- the per-class binary problems ---------------------------------------------------------------------------------
def _host(x: Tensor) -> np.ndarray:
    x = x.detach()
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()  # exact
    return x.cpu().numpy()


def _columns(preds: Tensor, target: Tensor, task: str, average: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """One (scores, 0/1 int64 target) pair per class (per label; one for binary and for micro averages)."""
    p, t = _host(preds), _host(target).astype(np.int64, copy=False)
    if task == "binary":
        return [(p, t)]
    if task == "multiclass":
        if average == "micro":  # one-vs-rest on the flattened one-hot target
            onehot = (t[:, None] == np.arange(p.shape[1])).astype(np.int64)
            return [(p.reshape(-1), onehot.reshape(-1))]
        return [(np.ascontiguousarray(p[:, c]), (t == c).astype(np.int64)) for c in range(p.shape[1])]
    # multilabel: ignored entries carry target -1
    if average == "micro":
        keep = t >= 0
        return [(p[keep], t[keep])]
    out = []
    for j in range(p.shape[1]):
        keep = t[:, j] >= 0
        out.append((p[keep, j], t[keep, j]) if not keep.all() else (np.ascontiguousarray(p[:, j]), t[:, j].copy()))
    return out


def _weight_columns(weight: Tensor, target: Tensor, task: str, average: str, classes: int) -> list[np.ndarray]:
    """The sample weights that go with each pair of :func:`_columns`."""
    w, t = _host(weight), _host(target)
    if task == "binary":
        return [w]
    if task == "multiclass":
        return [np.repeat(w, classes)] if average == "micro" else [w] * classes
    if average == "micro":
        return [np.broadcast_to(w[:, None], t.shape)[t >= 0]]
    return [w[t[:, j] >= 0] for j in range(classes)]


def _groups(pairs: list[tuple[np.ndarray, np.ndarray]], weights: list[np.ndarray] | None,
            i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tie groups ``(keys, pos, neg)`` of column i: counts, or sums of weights."""
    scores, target = pairs[i]
    return K.tie_groups(scores, target) if weights is None else K.weighted_groups(scores, target, weights[i])


def _undefined(metric: str, column: int | None, num_pos: int, n: int) -> UndefinedMetricError:
    where = "" if column is None else f" of class {column}"
    has = "only negatives" if num_pos == 0 else "only positives"
    need = "both classes" if metric in ("auroc", "roc_curve") else "a positive sample"
    fix = ("pass fallback=<value> to use one, or evaluate on data with " + need
           if metric in ("auroc", "average_precision") else "evaluate on data with " + need)
    return problem(UndefinedMetricError, "target", f"to hold {need} for {metric}{where}",
                   f"{has} ({num_pos} positives in {n} samples)", fix)


def _defined(metric: str, num_pos: int, num_neg: int) -> bool:
    return num_pos > 0 and (num_neg > 0 or metric not in ("auroc", "roc_curve"))


def _check_defined(metric: str, column: int | None, num_pos: int, num_neg: int) -> None:
    if not _defined(metric, num_pos, num_neg):
        raise _undefined(metric, column, num_pos, num_pos + num_neg)


def _scalar(metric: str, value_of: Any, counts: list[tuple[int, int]], fallback: float | None) -> np.ndarray:
    """Per-class values; ``value_of(i)`` computes class i's value once it is known to be defined."""
    values = np.empty(len(counts))
    for i, (num_pos, num_neg) in enumerate(counts):
        if _defined(metric, num_pos, num_neg):
            values[i] = value_of(i)
        elif fallback is None:
            raise _undefined(metric, None if len(counts) == 1 else i, num_pos, num_pos + num_neg)
        else:
            values[i] = fallback
    return values


def _average(values: np.ndarray, support: np.ndarray, task: str, average: str) -> np.ndarray | float:
    if task == "binary" or average == "micro":
        return float(values[0])
    if average == "macro":
        return float(values.mean())
    if average == "weighted":
        total = support.sum()  # 0 only when no class has a positive: every value is then the fallback
        return float(np.dot(values, support) / total) if total > 0 else float(values.mean())
    return values


# -- the streaming classes -----------------------------------------------------------------------------------------
class _Ranking(Metric):
    """Shared state and formatting: exact (``cat`` of scores and labels) or binned (``sum`` of bin counts)."""

    _metric: str = ""

    def _check_params(self, params: dict[str, Any]) -> None:
        check_classification_options(params)
        if params.get("average") == "samples":
            raise problem(ConfigError, "average", "to be 'macro', 'weighted', 'micro' or 'none' for ranking metrics",
                          "'samples'", "use average='macro'")
        if params.get("bins") is not None:
            check_number(params["bins"], "bins", low=2, high=2**20, integer=True)
        if params.get("fallback") is not None:
            check_number(params["fallback"], "fallback")
        if params.get("pos_label", 1) not in (0, 1) or isinstance(params.get("pos_label"), bool):
            raise problem(ConfigError, "pos_label", "to be 0 or 1 (the class whose scores `preds` holds)",
                          repr(params.get("pos_label")), "pass pos_label=0 when preds score class 0; map other "
                          "labels to {0, 1} first")
        if params.get("pos_label", 1) == 0 and (params.get("task") not in (None, "binary")
                                                 or params.get("num_classes") or params.get("num_labels")):
            raise problem(ConfigError, "pos_label", "to be 1 unless the task is binary", "0",
                          "leave pos_label out for multiclass and multilabel scores")
        if params.get("max_fpr") is not None:
            check_number(params["max_fpr"], "max_fpr", low=0.0, high=1.0, low_open=True)
            if params.get("task") == "multiclass" or params.get("num_classes") is not None:
                raise problem(ConfigError, "max_fpr", "to be None for multiclass AUROC (as scikit-learn)",
                              str(params["max_fpr"]), "use it for binary or multilabel scores")

    def _format(self, preds: Any, target: Any, sample_weight: Any = None) -> Batch:
        if sample_weight is not None and self.params["bins"] is not None:
            raise problem(ConfigError, "sample_weight", "to be None with bins=K (the binned state counts samples)",
                          "weights", "pass bins=None (exact) to weight samples")
        batch = format_classification(preds, target, **self._format_options(), resolved=self._resolved,
                                      sample_weight=sample_weight)
        if batch.task == "multiclass" and not self.params["from_logits"] and batch.preds.numel():
            deviation = float((batch.preds.sum(dim=-1, dtype=torch.float64) - 1.0).abs().max())
            if deviation > _ROW_SUM_TOLERANCE:
                raise problem(DomainError, "preds", "to hold class probabilities whose rows sum to 1",
                              f"a row sum off by {deviation:.3g}",
                              "pass from_logits=True if these are logits, or normalise each row")
        if self.params.get("pos_label", 1) == 0:
            if batch.task != "binary":
                raise problem(ConfigError, "pos_label", "to be 1 unless the task is binary", f"0 with {batch.task} "
                              "inputs", "leave pos_label out for multiclass and multilabel scores")
            batch = replace(batch, target=1 - batch.target)  # preds score class 0: it is the positive one
        return batch

    def _stats_key(self) -> Any:
        return ("ranking", self.params["bins"])

    def _init_states(self, resolved: tuple[str, int], device: torch.device) -> None:
        task, n = resolved
        bins = self.params["bins"]
        if bins is not None:
            self.add_state("counts", torch.zeros((1 if task == "binary" else n, bins, 2), dtype=torch.int64,
                                                 device=device))
            return
        trailing = () if task == "binary" else (n,)
        self.add_state("preds", torch.zeros((0, *trailing), dtype=torch.float64, device=device), reduce="cat")
        self.add_state("target", torch.zeros((0, *(trailing if task == "multilabel" else ())), dtype=torch.int64,
                                             device=device), reduce="cat")
        if self._weighted:
            self.add_state("weight", torch.zeros(0, dtype=torch.float64, device=device), reduce="cat")

    def _batch_states(self, batch: Batch) -> dict[str, Tensor]:
        target = batch.target if batch.mask is None else batch.target.masked_fill(~batch.mask, -1)
        bins = self.params["bins"]
        if bins is None:
            if batch.weight is not None:
                return {"preds": batch.preds, "target": target, "weight": batch.weight}
            return {"preds": batch.preds, "target": target}
        probs = batch.preds.detach()
        if self.params["from_logits"] and batch.task != "multiclass":
            probs = torch.sigmoid(probs.float())
        p, t = _host(probs), _host(target).astype(np.int64, copy=False)
        p, t = (p[:, None], t[:, None]) if batch.task == "binary" else (p, t)
        if batch.task == "multiclass":
            t = (t[:, None] == np.arange(p.shape[1])).astype(np.int64)
        index = K.bin_index(p, bins)  # (n, C)
        flat = (np.arange(p.shape[1]) * bins + index) * 2 + t
        flat = flat[t >= 0]
        counts = np.bincount(flat.reshape(-1), minlength=p.shape[1] * bins * 2).reshape(p.shape[1], bins, 2)
        return {"counts": torch.from_numpy(counts).to(batch.preds.device)}

    # -- helpers for _compute --------------------------------------------------------------------------------
    def _binned_columns(self, counts: Tensor, task: str, average: str) -> list[tuple[np.ndarray, np.ndarray]]:
        c = counts.cpu().numpy()
        if average == "micro" and task != "binary":
            c = c.sum(axis=0, keepdims=True)
        return [(c[i, :, 1], c[i, :, 0]) for i in range(c.shape[0])]

    def _device(self, states: dict[str, Tensor]) -> torch.device:
        return next(iter(states.values())).device


def _mcclish(pos: np.ndarray, neg: np.ndarray, max_fpr: float) -> float:
    """Standardised partial AUROC over FPR in [0, max_fpr] (McClish, 1989), from tie groups in increasing
    order: the area up to ``max_fpr`` (linear in the last segment), mapped so that chance is 0.5 and perfect 1."""
    fpr, tpr, _ = K.roc_curve_from_groups(np.zeros(pos.size), pos, neg, False)
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    tpr_end = np.interp(max_fpr, fpr[stop - 1: stop + 1], tpr[stop - 1: stop + 1])
    x, y = np.r_[fpr[:stop], max_fpr], np.r_[tpr[:stop], tpr_end]
    partial = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))
    low, high = max_fpr**2 / 2, max_fpr
    return 0.5 * (1 + (partial - low) / (high - low))


class _ScalarRanking(_Ranking):
    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        task, _ = resolved
        average = self.params["average"] or "macro"  # None: the default, as scikit-learn
        max_fpr = self.params.get("max_fpr")
        if max_fpr is not None and max_fpr < 1:
            if task == "multiclass":
                raise problem(ConfigError, "max_fpr", "to be None for multiclass AUROC (as scikit-learn)",
                              str(max_fpr), "use it for binary or multilabel scores")
            return self._partial(states, task, average, max_fpr)
        if "counts" in states:
            columns = self._binned_columns(states["counts"], task, average)
            counts = [(int(pos.sum()), int(neg.sum())) for pos, neg in columns]
            from_groups = K.auroc_from_groups if self._metric == "auroc" else K.average_precision_from_groups
            values = _scalar(self._metric, lambda i: from_groups(*columns[i]), counts, self.params["fallback"])
        elif "weight" in states:  # weighted: tie groups with summed weights
            pairs = _columns(states["preds"], states["target"], task, average)
            weights = _weight_columns(states["weight"], states["target"], task, average, len(pairs)
                                      if average != "micro" else states["preds"].shape[-1])
            groups = [_groups(pairs, weights, i) for i in range(len(pairs))]
            counts = [(float(pos.sum()), float(neg.sum())) for _, pos, neg in groups]
            from_groups = K.auroc_from_groups if self._metric == "auroc" else K.average_precision_from_groups
            values = _scalar(self._metric, lambda i: from_groups(*groups[i][1:]), counts, self.params["fallback"])
        else:
            pairs = _columns(states["preds"], states["target"], task, average)
            counts = [(num_pos, t.size - num_pos) for num_pos, t in ((int(t.sum()), t) for _, t in pairs)]
            exact = K.exact_auroc if self._metric == "auroc" else K.exact_average_precision
            values = _scalar(self._metric, lambda i: exact(*pairs[i]), counts, self.params["fallback"])
        support = np.array([p for p, _ in counts], dtype=np.float64)
        return torch.tensor(_average(values, support, task, average), dtype=torch.float64,
                            device=self._device(states))

    def _partial(self, states: dict[str, Tensor], task: str, average: str, max_fpr: float) -> Tensor:
        if "counts" in states:
            groups = [(None, pos, neg) for pos, neg in self._binned_columns(states["counts"], task, average)]
        else:
            pairs = _columns(states["preds"], states["target"], task, average)
            weights = None if "weight" not in states else _weight_columns(
                states["weight"], states["target"], task, average, len(pairs))
            groups = [_groups(pairs, weights, i) for i in range(len(pairs))]
        counts = [(K._exact(pos.sum()), K._exact(neg.sum())) for _, pos, neg in groups]
        values = _scalar("auroc", lambda i: _mcclish(groups[i][1], groups[i][2], max_fpr), counts,
                         self.params["fallback"])
        support = np.array([p for p, _ in counts], dtype=np.float64)
        return torch.tensor(_average(values, support, task, average), dtype=torch.float64,
                            device=self._device(states))

    def error_bound(self) -> Any:
        """Worst-case |binned − exact| of :meth:`compute` (``bins=K`` only), from the counts alone.

        Averages of classes get the same average of their bounds; an undefined class (with ``fallback=``) has
        bound 0.
        """
        if self.params["bins"] is None:
            raise problem(ConfigError, "bins", "to be set for error_bound()", "bins=None (exact: the bound is 0)",
                          "build the metric with bins=K")
        states, (task, _) = self._synced_states()
        average = self.params["average"] or "macro"  # None: the default, as scikit-learn
        columns = self._binned_columns(states["counts"], task, average)
        index = 0 if self._metric == "auroc" else 1
        bounds = np.array([K.binned_error_bounds(pos, neg)[index] if pos.sum() and neg.sum() else 0.0
                           for pos, neg in columns])
        support = np.array([pos.sum() for pos, _ in columns], dtype=np.float64)
        return to_kind(torch.as_tensor(_average(bounds, support, task, average), dtype=torch.float64), self._kind)


class AUROC(_ScalarRanking):
    """Streaming area under the ROC curve (see :func:`auroc`); with ``bins=K``, a fixed-size state and a bound.

    >>> m = AUROC(bins=16)  # coarse on purpose: 0.1 to 0.4 share one bin
    >>> m.update([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); m.update([0.36], [0])
    >>> m.compute(), m.error_bound()  # the exact value is 0.6667
    (0.75, 0.25)
    """

    _metric = "auroc"


class AveragePrecision(_ScalarRanking):
    """Streaming average precision (see :func:`average_precision`)."""

    _metric = "average_precision"


class _Curve(_Ranking):
    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Any:
        task, _ = resolved
        device = self._device(states)
        if "counts" in states:
            edges = K.bin_lower_edges(self.params["bins"])
            if self.params["from_logits"] and task != "multiclass":
                with np.errstate(divide="ignore"):
                    edges = np.log(edges) - np.log1p(-edges)
            columns = [(edges, pos, neg) for pos, neg in self._binned_columns(states["counts"], task, "none")]
            columns = [(v[(p + n) > 0], p[(p + n) > 0], n[(p + n) > 0]) for v, p, n in columns]
        else:
            columns = []
            pairs = _columns(states["preds"], states["target"], task, "none")
            weights = None if "weight" not in states else _weight_columns(
                states["weight"], states["target"], task, "none", len(pairs))
            for i, (scores, _) in enumerate(pairs):
                keys, pos, neg = _groups(pairs, weights, i)
                columns.append((K.scores_from_keys(keys, scores.dtype), pos, neg))
        curves = []
        for i, (values, pos, neg) in enumerate(columns):
            _check_defined(self._metric, None if task == "binary" else i, K._exact(pos.sum()), K._exact(neg.sum()))
            arrays = self._curve(values, pos, neg)
            curves.append(tuple(torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in arrays))
        if task == "binary":
            return curves[0]
        return tuple([c[k] for c in curves] for k in range(3))

    def _curve(self, values: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, ...]:
        raise NotImplementedError


class ROCCurve(_Curve):
    """Streaming ROC curve (see :func:`roc_curve`)."""

    _metric = "roc_curve"

    def _curve(self, values: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, ...]:
        return K.roc_curve_from_groups(values, pos, neg, self.params["drop_intermediate"])


class PRCurve(_Curve):
    """Streaming precision-recall curve (see :func:`pr_curve`)."""

    _metric = "pr_curve"

    def _curve(self, values: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, ...]:
        return K.pr_curve_from_groups(values, pos, neg)


# -- the pure functions --------------------------------------------------------------------------------------------
_FACTS = {"tasks": _TASKS, "needs": "scores", "higher_is_better": True, "range": (0.0, 1.0),
          "differentiable": False}


@register(AUROC, summary="Area under the ROC curve: the probability that a positive outranks a negative "
                         "(ties count ½); one-vs-rest for multiclass, per label for multilabel.",
          formula="AUROC = (1 / (P·N)) · Σ_{i positive} Σ_{j negative} ([s_i > s_j] + ½·[s_i = s_j])",
          references=("scikit-learn: sklearn.metrics.roc_auc_score",
                      "Hanley & McNeil (1982), The meaning and use of the area under a ROC curve"), **_FACTS)
def auroc(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    from_logits: bool = False,
    ignore_index: int | None = None,
    bins: int | None = None,
    fallback: float | None = None,
    max_fpr: float | None = None,
    pos_label: int = 1,
) -> Any:
    """Area under the ROC curve, exactly as ``sklearn.metrics.roc_auc_score`` (ties count ½).

    Equal to the trapezoidal area under the ROC curve. Multiclass: one-vs-rest per class (class c's scores against
    ``target == c``); ``average`` "macro" (the default: mean over classes), "weighted" (by positives per class),
    "micro" (one ranking of the flattened one-hot problem) or "none" (per class). Binary ignores ``average``.

    Args:
        preds: scores ``(N,)`` (binary), ``(N, C)`` (multiclass) or ``(N, L)`` (multilabel); probabilities, or
            logits with ``from_logits=True``. Any float dtype.
        target: labels ``(N,)`` in {0, 1} or [0, C), or multi-hot ``(N, L)``; integer or bool.
        task, num_classes, num_labels, ignore_index: as in every classification metric (see ``_format``).
        average: "macro", "weighted", "micro" or "none"; None (the default) is "macro", as in scikit-learn.
        from_logits: scores are logits (multiclass: softmax is applied; binary and multilabel: ranked as they are).
        bins: None for the exact value; K for the binned estimate of a fixed-size state (see the module docstring).
        fallback: value for a class whose AUROC is undefined (one class present); None raises
            :class:`~almanac.errors.UndefinedMetricError`.
        max_fpr: in (0, 1]: the standardised partial AUROC over FPR ≤ max_fpr (McClish correction, as
            scikit-learn's ``max_fpr``); binary and multilabel only.
        sample_weight: ``(N,)`` weights ≥ 0, as scikit-learn's. (Argument order: almanac takes ``preds`` first,
            scikit-learn ``y_true`` first — ``roc_auc_score(y, s)`` is ``auroc(s, y)``.)

    Returns:
        A float (NumPy or list inputs) or a 0-d tensor (tensor inputs); per-class values for average="none".

    >>> auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    >>> auroc([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]], [0, 1, 2, 1])
    1.0
    """
    return evaluate(AUROC, preds, target, locals())


@register(AveragePrecision, aliases=("auc_pr",),
          summary="Average precision: the precision at each positive's threshold, averaged over positives "
                  "(step-wise area under the PR curve, no interpolation).",
          formula="AP = Σ_k (R_k − R_{k−1}) · P_k over decreasing distinct thresholds k",
          references=("scikit-learn: sklearn.metrics.average_precision_score",
                      "Manning, Raghavan & Schütze (2008), Introduction to Information Retrieval, §8.4"), **_FACTS)
def average_precision(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    from_logits: bool = False,
    ignore_index: int | None = None,
    bins: int | None = None,
    fallback: float | None = None,
    pos_label: int = 1,
) -> Any:
    """Average precision, exactly as ``sklearn.metrics.average_precision_score``.

    P_k and R_k are the precision and recall of "score ≥ threshold k" (tied scores enter together). Multiclass:
    one-vs-rest per class; ``average`` as in :func:`auroc`.

    Args:
        preds, target, task, num_classes, num_labels, average, from_logits, ignore_index, bins: as in
            :func:`auroc`.
        fallback: value for a class with no positive sample; None raises
            :class:`~almanac.errors.UndefinedMetricError`. (With no negative, AP is 1.)

    Returns:
        A float (NumPy or list inputs) or a 0-d tensor (tensor inputs); per-class values for average="none".

    >>> average_precision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.8333333333333333
    """
    return evaluate(AveragePrecision, preds, target, locals())


@register(ROCCurve, summary="ROC curve: false and true positive rates at every distinct threshold.",
          formula="FPR(τ) = #{neg: s ≥ τ} / N,  TPR(τ) = #{pos: s ≥ τ} / P",
          references=("scikit-learn: sklearn.metrics.roc_curve",
                      "Fawcett (2006), An introduction to ROC analysis"), **_FACTS)
def roc_curve(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    from_logits: bool = False,
    ignore_index: int | None = None,
    bins: int | None = None,
    drop_intermediate: bool = True,
    pos_label: int = 1,
) -> Any:
    """ROC curve ``(fpr, tpr, thresholds)``, as ``sklearn.metrics.roc_curve`` with its defaults.

    At the distinct scores τ in decreasing order, after a first threshold ``+inf`` (the point (0, 0)).
    ``drop_intermediate`` (as scikit-learn's default) drops the thresholds whose point lies on a straight segment
    between its neighbours; the area is unchanged.

    Args:
        preds, target, task, num_classes, num_labels, from_logits, ignore_index, bins: as in :func:`auroc`.
        drop_intermediate: drop collinear points (True, as scikit-learn) or keep every distinct threshold.
        pos_label: binary: the class whose scores ``preds`` holds (0: the target's 0s are the positives), as
            scikit-learn's ``pos_label``; also on :func:`auroc`, :func:`average_precision` and :func:`pr_curve`.

    Returns:
        ``(fpr, tpr, thresholds)``: NumPy arrays (NumPy or list inputs) or tensors; for multiclass and
        multilabel, each is a list with one array per class (one-vs-rest).

    >>> fpr, tpr, thresholds = roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    >>> fpr.tolist(), tpr.tolist(), thresholds.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], [inf, 0.8, 0.4, 0.35, 0.1])
    """
    return evaluate(ROCCurve, preds, target, locals())


@register(PRCurve, summary="Precision-recall curve: precision and recall at every distinct threshold.",
          formula="P(τ) = #{pos: s ≥ τ} / #{s ≥ τ},  R(τ) = #{pos: s ≥ τ} / P",
          references=("scikit-learn: sklearn.metrics.precision_recall_curve",), **_FACTS)
def pr_curve(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    from_logits: bool = False,
    ignore_index: int | None = None,
    bins: int | None = None,
    pos_label: int = 1,
) -> Any:
    """Precision-recall curve ``(precision, recall, thresholds)``, as ``sklearn.metrics.precision_recall_curve``.

    At every distinct score τ in increasing order, then the point (precision 1, recall 0) appended (without a
    threshold).

    Args:
        preds, target, task, num_classes, num_labels, from_logits, ignore_index, bins: as in :func:`auroc`.

    Returns:
        ``(precision, recall, thresholds)``: NumPy arrays or tensors (one more point than thresholds); for
        multiclass and multilabel, each is a list with one array per class.

    >>> precision, recall, thresholds = pr_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    >>> precision.round(3).tolist(), recall.tolist(), thresholds.tolist()
    ([0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0], [0.1, 0.35, 0.4, 0.8])
    """
    return evaluate(PRCurve, preds, target, locals())

