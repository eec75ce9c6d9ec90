"""``almanac bench metrics``: almanac's metrics against torchmetrics (functional) and scikit-learn, side by side.

Cases (inputs are tensors for almanac and torchmetrics, the same data as NumPy arrays for scikit-learn):

- ``auroc``, ``average_precision``: binary, n = 1e7·scale float32 probabilities, 30 % positives. Target: ≤ 0.2×
  torchmetrics and ≤ 0.1× scikit-learn, while staying exact.
- ``auroc_1e3``, ``average_precision_1e3``: the same at n = 1e3, the cost of one call. Target: ≤ 0.5× torchmetrics.
- ``accuracy``, ``f1_macro``, ``matthews_corrcoef``: multiclass labels, n = 1e6·scale, C = 10. Target: ≤ 0.3×
  torchmetrics.
- ``mse``, ``r2``, ``mae``: n = 1e6·scale float32. Target: ≤ 1× torchmetrics.
- ``forward_256``: a streaming macro F1's ``forward`` (update + the batch's value) on a batch of 256 × 10 logits,
  against torchmetrics' ``MulticlassF1Score.forward``. Target: ≤ 0.3× torchmetrics.
- ``update_256``: a streaming F1's ``update`` on 256 labels against a bare ``torch.bincount`` of
  ``target * C + pred`` (the least an update can do). Target: ≤ 1.5× bincount.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from sklearn import metrics as skm

from almanac import metrics as am
from almanac.bench.harness import Case, Contender

RANKING_TARGET = "≤ 0.2× torchmetrics, ≤ 0.1× sklearn"
PER_CALL_TARGET = "≤ 0.5× torchmetrics"
CONFUSION_TARGET = "≤ 0.3× torchmetrics"
REGRESSION_TARGET = "≤ 1× torchmetrics"
FORWARD_TARGET = "≤ 0.3× torchmetrics"
UPDATE_TARGET = "≤ 1.5× bincount"


def _streaming_cases(generator: torch.Generator) -> list[Case]:
    """The per-batch cost of a streaming metric in a training loop (batch 256, C = 10)."""
    from torchmetrics.classification import MulticlassF1Score

    classes, batch = 10, 256
    logits = torch.randn(batch, classes, generator=generator)
    target = torch.randint(0, classes, (batch,), generator=generator)
    labels = logits.argmax(1)
    ours = am.F1(task="multiclass", num_classes=classes, average="macro")
    peer = MulticlassF1Score(num_classes=classes, average="macro")
    streaming = am.F1(task="multiclass", num_classes=classes, average="macro")

    def update() -> None:
        streaming.update(labels, target)

    def bincount() -> None:
        torch.bincount(target * classes + labels, minlength=classes * classes)

    return [
        Case("forward_256", f"batch={batch}, C={classes} logits", [
            Contender("almanac", lambda: ours(logits, target), memory=False),
            Contender("torchmetrics", lambda: peer(logits, target), memory=False),
        ], FORWARD_TARGET),
        Case("update_256", f"batch={batch}, C={classes} labels", [
            Contender("almanac", update, memory=False),
            Contender("bincount", bincount, memory=False),
        ], UPDATE_TARGET),
    ]


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    return lambda: fn(*args, **kwargs)


def _binary(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    target = (torch.rand(n, generator=generator) < 0.3).long()
    scores = torch.sigmoid(torch.randn(n, generator=generator) + 1.5 * target)  # float32 probabilities
    return scores, target


def cases(scale: float) -> list[Case]:
    """Every case of the suite; ``scale`` multiplies the large sizes (the per-call cases stay at n = 1e3)."""
    from torchmetrics.functional import mean_absolute_error, mean_squared_error, r2_score
    from torchmetrics.functional.classification import (
        binary_auroc,
        binary_average_precision,
        multiclass_accuracy,
        multiclass_f1_score,
        multiclass_matthews_corrcoef,
    )

    generator = torch.Generator().manual_seed(0)
    out: list[Case] = []

    n = max(1000, round(1e7 * scale))
    scores, target = _binary(n, generator)
    s_np, t_np = scores.numpy(), target.numpy()
    shape = f"n={n:.0e} f32"
    for name, ours, peer, reference in (("auroc", am.auroc, binary_auroc, skm.roc_auc_score),
                                        ("average_precision", am.average_precision, binary_average_precision,
                                         skm.average_precision_score)):
        out.append(Case(name, shape, [
            Contender("almanac", _call(ours, scores, target), memory=False),
            Contender("torchmetrics", _call(peer, scores, target), memory=False),
            Contender("sklearn", _call(reference, t_np, s_np), memory=False),
        ], RANKING_TARGET))

    small_scores, small_target = _binary(1000, generator)
    for name, ours, peer in (("auroc_1e3", am.auroc, binary_auroc),
                             ("average_precision_1e3", am.average_precision, binary_average_precision)):
        out.append(Case(name, "n=1e3 f32", [
            Contender("almanac", _call(ours, small_scores, small_target), memory=False),
            Contender("torchmetrics", _call(peer, small_scores, small_target), memory=False),
        ], PER_CALL_TARGET))

    n = max(1000, round(1e6 * scale))
    classes = 10
    labels_target = torch.randint(0, classes, (n,), generator=generator)
    correct = torch.rand(n, generator=generator) < 0.6
    labels_preds = torch.where(correct, labels_target, torch.randint(0, classes, (n,), generator=generator))
    p_np, y_np = labels_preds.numpy(), labels_target.numpy()
    options = {"task": "multiclass", "num_classes": classes}
    shape = f"n={n:.0e}, C={classes}"
    for name, ours, peer, reference in (
        ("accuracy", _call(am.accuracy, labels_preds, labels_target, average="micro", **options),
         _call(multiclass_accuracy, labels_preds, labels_target, num_classes=classes, average="micro"),
         _call(skm.accuracy_score, y_np, p_np)),
        ("f1_macro", _call(am.f1, labels_preds, labels_target, average="macro", **options),
         _call(multiclass_f1_score, labels_preds, labels_target, num_classes=classes, average="macro"),
         _call(skm.f1_score, y_np, p_np, average="macro")),
        ("matthews_corrcoef", _call(am.matthews_corrcoef, labels_preds, labels_target, **options),
         _call(multiclass_matthews_corrcoef, labels_preds, labels_target, num_classes=classes),
         _call(skm.matthews_corrcoef, y_np, p_np)),
    ):
        out.append(Case(name, shape, [Contender("almanac", ours, memory=False),
                                      Contender("torchmetrics", peer, memory=False),
                                      Contender("sklearn", reference, memory=False)], CONFUSION_TARGET))

    values_target = torch.randn(n, generator=generator)
    values_preds = values_target + 0.5 * torch.randn(n, generator=generator)
    shape = f"n={n:.0e} f32"
    for name, ours, peer in (("mse", am.mse, mean_squared_error), ("r2", am.r2, r2_score),
                             ("mae", am.mae, mean_absolute_error)):
        out.append(Case(name, shape, [
            Contender("almanac", _call(ours, values_preds, values_target), memory=False),
            Contender("torchmetrics", _call(peer, values_preds, values_target), memory=False),
        ], REGRESSION_TARGET))
    out.extend(_streaming_cases(generator))
    return out

