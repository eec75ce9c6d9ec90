"""Segmentation metrics: IoU (Jaccard index) and Dice, from the same confusion counts as the classification
metrics, over every pixel (voxel, ...).

Inputs: ``preds`` ``(N, C, *spatial)`` class scores or ``(N, *spatial)`` label maps, ``target`` ``(N, *spatial)``
class-index maps (multiclass); binary masks of equal shape (probabilities or {0, 1}); or ``(N, L, *spatial)``
multi-hot masks with ``task="multilabel"``. With ``task=None`` (or ``"segmentation"``) equal-shape maps are binary
masks when every label is 0 or 1 and multiclass label maps otherwise (``num_classes`` makes them multiclass).
Every other keyword is the classification one (:mod:`almanac.metrics.classification`).

Classes absent from both the prediction and the target have a 0 / 0 score: ``zero_division`` (default 0.0) is
used, and ``zero_division=float("nan")`` leaves them out of the ``"macro"`` mean — the usual mIoU convention.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from almanac.metrics._format import check_classification_options
from almanac.metrics._registry import evaluate, register
from almanac.metrics.classification import _StatScores

__all__ = ["Dice", "IoU", "dice", "iou"]

_TASKS = ("segmentation", "binary", "multiclass", "multilabel")


class _Overlap(_StatScores):
    """Counting metrics over pixels: equal-shape maps are read as masks or label maps, never as multilabel."""

    def _check_params(self, params: dict[str, Any]) -> None:
        check_classification_options({**params, "task": None if params["task"] == "segmentation" else params["task"]})

    def _format_options(self) -> dict[str, Any]:
        options = super()._format_options()
        if options["task"] == "segmentation":
            options["task"] = None
        options["spatial"] = True
        return options


class IoU(_Overlap):
    """Streaming :func:`iou`."""

    def _terms(self, tp: Tensor, fp: Tensor, fn: Tensor, tn: Tensor, task: str) -> tuple[Tensor, Tensor]:
        return tp, tp + fp + fn


class Dice(_Overlap):
    """Streaming :func:`dice`."""

    def _terms(self, tp: Tensor, fp: Tensor, fn: Tensor, tn: Tensor, task: str) -> tuple[Tensor, Tensor]:
        return 2 * tp, 2 * tp + fp + fn


_FACTS = {"tasks": _TASKS, "needs": "labels", "higher_is_better": True, "range": (0.0, 1.0)}


@register(IoU, aliases=("jaccard_index",), summary="Intersection over union of predicted and true regions.",
          formula="tp / (tp + fp + fn)", references=("scikit-learn: sklearn.metrics.jaccard_score",
                                                      "Jaccard, The distribution of the flora in the alpine zone "
                                                      "(1912)"), **_FACTS)
def iou(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    zero_division: float = 0.0,
) -> Any:
    """Intersection over union (Jaccard index).

    Per class over all pixels, averaged as ``average`` says (binary default: the foreground class; otherwise
    ``"micro"``; ``average="macro"`` is the mean IoU).

    Args and returns: see the module docstring and :mod:`almanac.metrics.classification`.

    >>> iou([[0, 1], [1, 1]], [[0, 1], [0, 1]])
    0.6666666666666666
    >>> iou([[0, 1, 2, 2]], [[0, 1, 1, 2]], average="macro")
    0.6666666666666666
    """
    return evaluate(IoU, preds, target, locals())


@register(Dice, summary="Dice coefficient (F1 over pixels): twice the overlap over the total size.",
          formula="2 tp / (2 tp + fp + fn)", references=("Dice, Measures of the amount of ecologic association "
                                                         "between species (1945)", "scikit-learn: "
                                                         "sklearn.metrics.f1_score"), **_FACTS)
def dice(
    preds: Any,
    target: Any,
    *,
    sample_weight: Any = None,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    average: str | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    zero_division: float = 0.0,
) -> Any:
    """Dice coefficient (Sørensen–Dice): the F1 score over pixels.

    Per class, averaged as ``average`` says (binary default: the foreground class).

    >>> dice([[0, 1], [1, 1]], [[0, 1], [0, 1]])
    0.8
    """
    return evaluate(Dice, preds, target, locals())

