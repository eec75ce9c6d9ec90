"""``am.advise``: choose the output activation, the loss and the metrics from the target.

The task is inferred from the target (binary, multiclass, multilabel, regression, ``"count"`` and ``"bounded"``
refinements of regression, segmentation masks), then measured: class frequencies, outliers (robust z-scores
``0.6745·|y − median| / MAD > 3.5``, Iglewicz & Hoaglin) and the range. Every choice comes with a one-line reason.
Binary segmentation masks whose foreground is under 10% of the pixels get the Dice loss, IoU and Dice.

>>> import torch
>>> import almanac as am
>>> advice = am.advise(torch.tensor([0] * 96 + [1] * 4))
>>> advice.task, advice.output_activation, advice.loss, dict(advice.loss_params)
('binary', 'identity', 'binary_cross_entropy', {'pos_weight': 24.0})
>>> advice.metrics[0]
'average_precision'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from torch import Tensor, nn

from almanac._checks import check_choice
from almanac.errors import ShapeError, TargetError, problem
from almanac.registry import TASKS

__all__ = ["Advice", "advise"]

_ADVICE_TASKS = (*TASKS, "count", "bounded")
_MAX_CLASSES = 20  # integers with more distinct values than this are counts or values, not classes
_IMBALANCED = 0.35  # a minority below this share gets a weighted loss
_RARE = 0.10  # a minority below this share gets ranking metrics first
# binary masks with foreground below this share of the pixels get the Dice loss: per-pixel BCE is then mostly
# background terms and can stay low while the few object pixels are missed (measured with `almanac compare
# segmentation --quick`: IoU 0.38 with Dice, 0.00 with BCE). Class maps keep the per-pixel losses (focal with class
# weights when a class is rare): on the bundled `shapes` maps (9.7% foreground) Dice alone stalled at IoU 0.30 with
# the softmax saturated to background, while the advised focal loss reached 0.59 after 15 epochs.
# The same 10% as _RARE, the share below which the advisor treats a class as rare everywhere else.
_RARE_FOREGROUND = _RARE


@dataclass(frozen=True)
class Advice:
    """What to end the model with, which loss to train on and which metrics to judge by, with the reasons.

    ``output_activation`` is what ``forward`` ends with ("identity" when the loss takes logits);
    ``inference_activation`` turns outputs into probabilities or values at prediction time.
    """

    task: str
    output_activation: str
    inference_activation: str
    loss: str
    loss_params: Mapping[str, Any]
    metrics: tuple[str, ...]
    facts: Mapping[str, Any]
    reasons: Mapping[str, str]

    def loss_fn(self) -> nn.Module:
        """The advised loss as an ``nn.Module`` (``am.losses.get(loss, **loss_params)``).

        >>> advise([0.5, 1.5, 2.5, 3.0, 100.0]).loss_fn()
        Loss[huber](delta=1.99)
        """
        from almanac import losses

        return losses.get(self.loss, **self.loss_params)

    def __str__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.loss_params.items())
        rows = [
            ("task", self.task, self.reasons.get("task", "")),
            ("output activation", self.output_activation, self.reasons.get("output_activation", "")),
            ("inference activation", self.inference_activation, ""),
            ("loss", f"{self.loss}({params})", self.reasons.get("loss", "")),
            ("metrics", f"{self.metrics[0]} (primary)" + "".join(f", {m}" for m in self.metrics[1:]),
             self.reasons.get("metrics", "")),
        ]
        rows += [(key, "", text) for key, text in self.reasons.items()
                 if key not in ("task", "output_activation", "loss", "metrics")]
        return "\n".join(f"{name:<21} {value}" + (f" — {why}" if why else "") for name, value, why in rows)


def _array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype == object:
        array = array.astype(str)
    return array


def _round(value: float, digits: int = 3) -> float:
    """``value`` to ``digits`` significant digits, as a plain float."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def _infer(y: np.ndarray) -> str:
    if y.dtype.kind not in "biuf":
        return "binary" if len(np.unique(y)) <= 2 else "multiclass"
    if y.ndim >= 3:
        return "segmentation"
    integer = bool(np.all(np.mod(y, 1) == 0))
    if y.ndim == 2:
        if np.isin(y, (0, 1)).all():
            return "multiclass" if np.all(y.sum(axis=1) == 1) else "multilabel"
        return "regression"
    distinct = np.unique(y)
    if len(distinct) <= 2:
        return "binary"
    if integer and len(distinct) <= _MAX_CLASSES:
        return "multiclass"
    if integer and distinct[0] >= 0:
        return "count"
    if distinct[0] >= 0 and distinct[-1] <= 1:
        return "bounded"
    return "regression"


def _class_facts(y: np.ndarray) -> dict[str, Any]:
    classes, counts = np.unique(y, return_counts=True)
    freq = counts / counts.sum()
    return {
        "classes": [c.item() if hasattr(c, "item") else c for c in classes],
        "class_frequencies": {str(c.item() if hasattr(c, "item") else c): _round(float(f), 4)
                              for c, f in zip(classes, freq)},
        "minority_fraction": _round(float(freq.min()), 4),
    }


def _value_facts(y: np.ndarray) -> dict[str, Any]:
    y = y.astype(np.float64).reshape(-1)
    median = float(np.median(y))
    mad = float(np.median(np.abs(y - median)))
    robust_std = 1.4826 * mad if mad > 0 else float(y.std())
    z = 0.6745 * np.abs(y - median) / mad if mad > 0 else np.zeros_like(y)
    return {
        "range": (_round(float(y.min()), 4), _round(float(y.max()), 4)),
        "median": _round(median, 4),
        "robust_std": _round(robust_std, 4),
        "outlier_fraction": _round(float((z > 3.5).mean()), 4),
    }


def _binary(facts: dict[str, Any], n_outputs: str = "one") -> dict[str, Any]:
    freq = list(facts["class_frequencies"].values())
    minority = min(freq)
    pos = freq[-1]
    advice: dict[str, Any] = {
        "output_activation": "identity", "inference_activation": "sigmoid", "loss": "binary_cross_entropy",
        "loss_params": {},
        "reasons": {"output_activation": f"{n_outputs} raw score; binary_cross_entropy applies the sigmoid itself "
                                         "(stable at any logit)"},
    }
    if minority < _IMBALANCED:
        advice["loss_params"] = {"pos_weight": _round((1 - pos) / pos)}
        advice["reasons"]["loss"] = (f"positives are {pos:.1%}: pos_weight = negatives / positives = "
                                     f"{advice['loss_params']['pos_weight']:g} balances the two classes")
    else:
        advice["reasons"]["loss"] = f"classes are balanced enough ({minority:.0%} minority): plain BCE on logits"
    if minority < _RARE:
        advice["metrics"] = ("average_precision", "f1", "balanced_accuracy", "auroc")
        advice["reasons"]["metrics"] = (f"the rarer class is {minority:.1%}: accuracy would reward always "
                                        "predicting the majority; AUC-PR ranks the rare class")
    elif minority < _IMBALANCED:
        advice["metrics"] = ("f1", "average_precision", "balanced_accuracy", "auroc")
        advice["reasons"]["metrics"] = f"the rarer class is {minority:.0%}: F1 weighs precision and recall on it"
    else:
        advice["metrics"] = ("accuracy", "f1", "auroc")
        advice["reasons"]["metrics"] = "balanced classes: accuracy reads plainly; F1 and AUROC add detail"
    return advice


def _multiclass(facts: dict[str, Any]) -> dict[str, Any]:
    freq = np.array(list(facts["class_frequencies"].values()))
    k, minority = len(freq), float(freq.min())
    advice: dict[str, Any] = {
        "output_activation": "identity", "inference_activation": "softmax",
        "reasons": {"output_activation": f"{k} raw scores; the loss applies log-softmax itself"},
    }
    if minority < min(_RARE, 0.5 / k):
        inverse = 1.0 / freq
        alpha = [_round(float(a), 4) for a in inverse / inverse.sum()]
        advice.update(loss="focal", loss_params={"task": "multiclass", "alpha": alpha, "gamma": 2.0},
                      metrics=("balanced_accuracy", "f1", "matthews_corrcoef", "accuracy"))
        advice["reasons"]["loss"] = (f"the rarest class is {minority:.1%} of the samples: focal loss with "
                                     "alpha ∝ 1 / class frequency focuses on rare and hard examples")
        advice["reasons"]["metrics"] = "imbalanced classes: balanced accuracy and macro F1 weigh every class equally"
    else:
        advice.update(loss="cross_entropy", loss_params={}, metrics=("accuracy", "f1", "balanced_accuracy"))
        advice["reasons"]["loss"] = "cross-entropy on logits is the maximum-likelihood loss for one class per sample"
        advice["reasons"]["metrics"] = "balanced classes: accuracy reads plainly; F1 and balanced accuracy add detail"
    return advice


def _multilabel(y: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    rates = y.astype(np.float64).mean(axis=0)
    facts = {"labels": int(y.shape[1]), "positive_rates": [_round(float(r), 4) for r in rates],
             "minority_fraction": _round(float(np.minimum(rates, 1 - rates).min()), 4)}
    advice: dict[str, Any] = {
        "output_activation": "identity", "inference_activation": "sigmoid", "loss": "binary_cross_entropy",
        "loss_params": {}, "metrics": ("f1", "average_precision", "accuracy"),
        "reasons": {"output_activation": "one raw score per label; each label is its own yes/no (sigmoid), they do "
                                         "not compete as softmax would make them",
                    "metrics": "F1 and AUC-PR per label, averaged; accuracy as subset accuracy is strict"},
    }
    if (rates > 0).all() and float(np.minimum(rates, 1 - rates).min()) < _IMBALANCED:
        advice["loss_params"] = {"pos_weight": [_round(float((1 - r) / r)) for r in rates]}
        advice["reasons"]["loss"] = "per-label pos_weight = negatives / positives balances each label's rare side"
    else:
        advice["reasons"]["loss"] = "binary cross-entropy on logits, one term per label"
    return facts, advice


def _regression(task: str, facts: dict[str, Any]) -> dict[str, Any]:
    metrics_reason = "RMSE and MAE in the target's units; R² against the mean"
    if task == "count":
        return {
            "output_activation": "softplus", "inference_activation": "identity", "loss": "poisson_nll",
            "loss_params": {"log_input": False}, "metrics": ("mae", "rmse", "r2"),
            "reasons": {"output_activation": "softplus keeps the predicted rate positive",
                        "loss": "non-negative integer counts: the Poisson likelihood fits their mean-variance link",
                        "metrics": metrics_reason},
        }
    if task == "bounded":
        return {
            "output_activation": "sigmoid", "inference_activation": "identity", "loss": "mse", "loss_params": {},
            "metrics": ("mae", "rmse", "r2"),
            "reasons": {"output_activation": "targets lie in [0, 1]: a sigmoid keeps predictions in range",
                        "loss": "squared error on the bounded output", "metrics": metrics_reason},
        }
    advice: dict[str, Any] = {"output_activation": "identity", "inference_activation": "identity",
                              "reasons": {"output_activation": "real-valued targets: no bound on the output"}}
    if facts["outlier_fraction"] > 0:
        delta = _round(1.345 * facts["robust_std"]) or 1.0
        advice.update(loss="huber", loss_params={"delta": delta}, metrics=("mae", "rmse", "r2"))
        advice["reasons"]["loss"] = (f"{facts['outlier_fraction']:.1%} of the targets are outliers (robust z > 3.5):"
                                     f" Huber with delta = 1.345 × robust std = {delta:g} limits their pull")
        advice["reasons"]["metrics"] = "outliers: MAE is robust to them; RMSE and R² for comparison"
    else:
        advice.update(loss="mse", loss_params={}, metrics=("rmse", "mae", "r2"))
        advice["reasons"]["loss"] = "no outliers (robust z ≤ 3.5): mean squared error is the efficient choice"
        advice["reasons"]["metrics"] = metrics_reason
    return advice


def _segmentation(y: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    masks = y[:, 0] if y.ndim == 4 and y.shape[1] == 1 else y
    facts = _class_facts(masks.reshape(-1))
    classes = len(facts["classes"])
    foreground = 1.0 - float(np.mean(masks == facts["classes"][0]))
    facts["foreground_fraction"] = _round(foreground, 4)
    advice = _binary(facts, "one") if classes <= 2 else _multiclass(facts)
    squash = "the sigmoid" if classes <= 2 else "softmax"
    scores = "one raw score" if classes <= 2 else f"{classes} raw scores"
    if classes <= 2 and foreground < _RARE_FOREGROUND:
        advice.update(loss="dice", loss_params={"task": "binary"}, metrics=("iou", "dice"))
        advice["reasons"]["output_activation"] = f"{scores} per pixel; the loss applies {squash} itself"
        advice["reasons"]["loss"] = (f"foreground is {foreground:.1%} of the pixels: per-pixel cross-entropy would be "
                                     "mostly background; the Dice loss scores the overlap whatever the object size")
        advice["reasons"]["metrics"] = "rare foreground: IoU and Dice measure the overlap of the objects, not pixels"
        return facts, advice
    log = "" if classes <= 2 else "log-"
    advice["reasons"]["output_activation"] = f"{scores} per pixel; the loss applies {log}{squash} itself"
    advice["metrics"] = ("iou", "dice", "balanced_accuracy") if classes > 2 else ("iou", "dice", "f1")
    advice["reasons"]["metrics"] = "IoU and Dice measure the overlap of predicted and true masks per class"
    return facts, advice


def advise(target: Any, *, inputs: Any = None, task: str | None = None) -> Advice:
    """Advise the output activation, the loss (with parameters) and the metrics for ``target``.

    Args:
        target: the training targets: class labels ``(N,)`` (numbers or strings), 0/1 label columns ``(N, L)``,
            values ``(N,)``, or masks ``(N, H, W)``; a tensor, NumPy array or list.
        inputs: the matching inputs ``(N, ...)``, optional; their scale is reported.
        task: force the task (``"binary"``, ``"multiclass"``, ``"multilabel"``, ``"regression"``, ``"count"``,
            ``"bounded"``, ``"segmentation"``) instead of inferring it.

    Returns:
        An :class:`Advice`; ``str(advice)`` prints it, ``advice.loss_fn()`` builds the loss.

    >>> print(advise([0.2, 0.5, 0.9, 0.4]))  # doctest: +NORMALIZE_WHITESPACE
    task                  bounded — values in [0.2, 0.9], 4 samples
    output activation     sigmoid — targets lie in [0, 1]: a sigmoid keeps predictions in range
    inference activation  identity
    loss                  mse() — squared error on the bounded output
    metrics               mae (primary), rmse, r2 — RMSE and MAE in the target's units; R² against the mean
    """
    if task is not None:
        check_choice(task, "task", _ADVICE_TASKS)
    y = _array(target)
    if y.ndim == 0 or y.shape[0] < 2:
        raise problem(TargetError, "target", "to hold at least 2 samples", f"shape {tuple(y.shape)}",
                      "pass the training targets")
    if y.ndim == 2 and y.shape[1] == 1 and task != "segmentation":
        y = y[:, 0]
    if y.dtype.kind in "biuf" and not np.isfinite(y).all():
        raise problem(TargetError, "target", "to be finite", f"{int((~np.isfinite(y)).sum())} NaN or inf values",
                      "drop or impute those rows")
    inferred = _infer(y)
    chosen = task or inferred
    facts: dict[str, Any] = {"samples": int(y.shape[0]), "inferred_task": inferred}
    reasons_extra: dict[str, str] = {}
    if chosen in ("binary", "multiclass"):
        labels = y.argmax(axis=1) if y.ndim == 2 else y
        facts.update(_class_facts(labels))
        n_classes = len(facts["classes"])
        if n_classes < 2:
            raise problem(TargetError, "target", "to hold at least 2 classes", f"only {facts['classes']}",
                          "pass targets of several classes, or task='regression'")
        advice = _binary(facts) if chosen == "binary" and n_classes <= 2 else _multiclass(facts)
        chosen = "binary" if chosen == "binary" and n_classes <= 2 else "multiclass"
        why = f"{n_classes} classes, the rarest is {facts['minority_fraction']:.1%} of {facts['samples']} samples"
        if facts["classes"] != list(range(n_classes)):
            reasons_extra = {"labels": f"map the labels {facts['classes'][:6]} to class indices 0..{n_classes - 1} "
                                       "in this order"}
    elif chosen == "multilabel":
        if y.ndim != 2:
            raise problem(ShapeError, "target", "to be 0/1 label columns (N, L) for a multilabel task",
                          f"shape {tuple(y.shape)}", "pass one column per label")
        extra, advice = _multilabel(y)
        facts.update(extra)
        why = f"{extra['labels']} labels, positive rates from {min(extra['positive_rates']):.1%}"
    elif chosen == "segmentation":
        extra, advice = _segmentation(y)
        facts.update(extra)
        why = (f"masks of {len(extra['classes'])} classes, foreground {extra['foreground_fraction']:.1%} of "
               "the pixels")
    else:
        if y.dtype.kind not in "biuf":
            raise problem(TargetError, "target", f"to be numeric for a {chosen} task", "text labels",
                          "pass task='multiclass', or numeric targets")
        facts.update(_value_facts(y))
        advice = _regression(chosen, facts)
        lo, hi = facts["range"]
        why = f"values in [{lo:g}, {hi:g}], {facts['samples']} samples"
        if chosen == "regression" and facts["outlier_fraction"]:
            why += f", {facts['outlier_fraction']:.1%} outliers"
    reasons = {**advice["reasons"], **reasons_extra}
    reasons["task"] = (why if task is None else f"given; {why}")
    if inputs is not None:
        reasons.update(_input_reason(inputs, facts))
    return Advice(
        task=chosen,
        output_activation=advice["output_activation"],
        inference_activation=advice["inference_activation"],
        loss=advice["loss"],
        loss_params=MappingProxyType(dict(advice["loss_params"])),
        metrics=tuple(advice["metrics"]),
        facts=MappingProxyType(facts),
        reasons=MappingProxyType(reasons),
    )


def _input_reason(inputs: Any, facts: dict[str, Any]) -> dict[str, str]:
    x = _array(inputs)
    if x.shape[0] != facts["samples"]:
        raise problem(ShapeError, "inputs", f"to have one row per target ({facts['samples']})",
                      f"{x.shape[0]} rows", "pass the inputs of the same samples")
    if x.dtype.kind not in "f" or x.ndim < 2:
        return {}
    flat = x.reshape(x.shape[0], -1).astype(np.float64)
    scale = float(np.max(np.maximum(np.abs(flat.mean(axis=0)), flat.std(axis=0))))
    facts["input_scale"] = _round(scale, 4)
    if scale > 10:
        return {"inputs": f"feature scales reach {scale:.3g}: standardise the inputs (zero mean, unit variance)"}
    return {}
