"""The report of a training run: curves per epoch and, on the validation split, the confusion matrix, ROC and PR
curves (classification), predicted vs true and residuals (regression), or example masks (segmentation).

Every plot is written as a PNG in the run directory and embedded in ``report.html``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import Tensor

from almanac.train.history import History
from almanac.train.report import Figure, Section, Table, pyplot, save_figure, write_html

if TYPE_CHECKING:
    from almanac.train.job import Job

__all__ = ["write_report"]


def _curves(history: History) -> tuple[Any, Any]:
    plt = pyplot()
    epochs = history.column("epoch")
    loss_fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(epochs, history.column("train_loss"), marker=".", label="train")
    if "val_loss" in history.columns:
        ax.plot(epochs, history.column("val_loss"), marker=".", label="validation")
    ax.set(xlabel="epoch", ylabel="loss", title="Loss per epoch")
    ax.legend()
    ax.grid(alpha=0.3)
    names = [c for c in history.columns if c.startswith("val_") and c != "val_loss"]
    cols = 2 if len(names) in (2, 4) else min(3, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    metric_fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for a, name in zip(axes.flat, names):
        a.plot(epochs, history.column(name), marker=".", color="tab:green")
        a.set(title=name[len("val_"):], xlabel="epoch")
        a.grid(alpha=0.3)
    for a in list(axes.flat)[len(names):]:
        a.axis("off")
    metric_fig.suptitle("Validation metrics per epoch")
    metric_fig.tight_layout()
    return loss_fig, metric_fig


def _confusion(preds: Tensor, target: Tensor, classes: tuple[str, ...]) -> Any:
    from almanac import metrics

    n = len(classes)
    task = "binary" if preds.ndim == 1 and n == 2 else "multiclass"
    params = {"task": task} if task == "binary" else {"task": task, "num_classes": n}
    matrix = np.asarray(metrics.confusion_matrix(preds, target, **params), dtype=float)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * n + 2.5), max(3.6, 0.45 * n + 2)))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true", title="Confusion matrix")
    ax.set_xticklabels(classes, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_yticklabels(classes)
    high = matrix.max() / 2 if matrix.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > high else "black")
    return fig


def _one_vs_rest(
    preds: Tensor, target: Tensor, classes: tuple[str, ...], task: str
) -> list[tuple[str, Tensor, Tensor]]:
    """(name, scores, 0/1 truth) per curve: one for binary, one per class or label otherwise."""
    if task == "binary":
        return [(classes[1] if len(classes) == 2 else "positive", preds, target.long())]
    if task == "multilabel":
        return [(classes[c], preds[:, c], target[:, c].long()) for c in range(preds.shape[1])]
    return [(classes[c], preds[:, c], (target == c).long()) for c in range(preds.shape[1])]


def _ranking_curves(preds: Tensor, target: Tensor, classes: tuple[str, ...], task: str) -> tuple[Any, Any]:
    from almanac import metrics

    plt = pyplot()
    roc_fig, roc = plt.subplots(figsize=(5, 4.4))
    pr_fig, pr = plt.subplots(figsize=(5, 4.4))
    for name, scores, truth in _one_vs_rest(preds, target, classes, task):
        if truth.min() == truth.max():
            continue  # a class absent from the validation split has no curve
        fpr, tpr, _ = metrics.roc_curve(scores, truth, task="binary")
        precision, recall, _ = metrics.pr_curve(scores, truth, task="binary")
        auroc = float(metrics.auroc(scores, truth, task="binary"))
        ap = float(metrics.average_precision(scores, truth, task="binary"))
        roc.plot(np.asarray(fpr), np.asarray(tpr), label=f"{name} (AUC {auroc:.3f})", lw=1.3)
        pr.plot(np.asarray(recall), np.asarray(precision), label=f"{name} (AP {ap:.3f})", lw=1.3)
    roc.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curves (validation)")
    pr.set(xlabel="recall", ylabel="precision", title="Precision–recall curves (validation)", ylim=(0, 1.02))
    for a in (roc, pr):
        a.grid(alpha=0.3)
        a.legend(fontsize=7, loc="lower right" if a is roc else "lower left")
    return roc_fig, pr_fig


def _regression(preds: Tensor, target: Tensor) -> tuple[Any, Any]:
    plt = pyplot()
    p, t = preds.double().numpy(), target.double().numpy()
    scatter_fig, ax = plt.subplots(figsize=(5, 4.4))
    ax.scatter(t, p, s=10, alpha=0.6)
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    ax.plot([lo, hi], [lo, hi], ls="--", color="grey", lw=0.8)
    ax.set(xlabel="true", ylabel="predicted", title="Predicted vs true (validation)")
    ax.grid(alpha=0.3)
    residual_fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    a1.scatter(p, t - p, s=10, alpha=0.6)
    a1.axhline(0, ls="--", color="grey", lw=0.8)
    a1.set(xlabel="predicted", ylabel="true − predicted", title="Residuals vs predicted")
    a2.hist(t - p, bins=30)
    a2.set(xlabel="true − predicted", title="Residual distribution")
    for a in (a1, a2):
        a.grid(alpha=0.3)
    residual_fig.tight_layout()
    return scatter_fig, residual_fig


def _examples(x: Tensor, preds: Tensor, target: Tensor, k: int = 4) -> Any:
    plt = pyplot()
    k = min(k, len(x))
    fig, axes = plt.subplots(k, 3, figsize=(6, 2 * k), squeeze=False)
    labels = preds.argmax(1)
    vmax = max(int(target.max()), 1)
    for i in range(k):
        for a, image, title in zip(axes[i], (x[i, 0], target[i], labels[i]), ("input", "true mask", "predicted")):
            a.imshow(image.numpy(), cmap="gray" if title == "input" else "viridis",
                     **({} if title == "input" else {"vmin": 0, "vmax": vmax}))
            a.set_title(title, fontsize=8)
            a.axis("off")
    fig.tight_layout()
    return fig


def write_report(path: Path, job: Job, history: History, final: dict[str, float], preds: Tensor,
                 target: Tensor, *, best_epoch: int | None = None) -> Path:
    """Write the PNG plots and ``report.html`` of a finished run into ``path``; ``final``, ``preds`` are those of
    the best epoch (``best.pt``)."""
    data, config = job.data, job.config
    figures: dict[str, list[Figure]] = {"Training": [], "Validation": []}

    def add(section: str, fig: Any, name: str, caption: str) -> None:
        figures[section].append(Figure(save_figure(fig, path / f"{name}.png"), caption))

    loss_fig, metric_fig = _curves(history)
    add("Training", loss_fig, "loss", "training and validation loss per epoch")
    add("Training", metric_fig, "metrics", "validation metrics per epoch")
    task = data.task
    if task in ("binary", "multiclass"):
        labels = (preds >= 0.5).long() if task == "binary" else preds.argmax(1)
        add("Validation", _confusion(labels, target, data.classes), "confusion_matrix", "confusion matrix")
    if task in ("binary", "multiclass", "multilabel"):
        roc_fig, pr_fig = _ranking_curves(preds, target, data.classes, task)
        add("Validation", roc_fig, "roc", "ROC curves, one per class (one vs rest)")
        add("Validation", pr_fig, "pr", "precision–recall curves, one per class (one vs rest)")
    if task == "regression":
        scatter_fig, residual_fig = _regression(preds, target)
        add("Validation", scatter_fig, "predicted_vs_true", "predicted vs true")
        add("Validation", residual_fig, "residuals", "residuals")
    if task == "segmentation":
        labels = preds.argmax(1)
        add("Validation", _confusion(labels.flatten(), target.flatten(), data.classes), "confusion_matrix",
            "confusion matrix of pixels")
        add("Validation", _examples(job.val_set[0], preds, target), "examples", "validation images and masks")

    settings = [(k, ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
                for k, v in config.to_json().items() if k != "reasons" and v not in (None, {}, [])]
    summary = (f"{data.name}: {task}, {len(data.x_train)} training and {len(data.x_val)} validation samples, "
               f"inputs {tuple(data.input_shape)}. {data.note}")
    best = best_epoch or history.last.get("epoch", 0)
    main = (config.metrics or ("loss",))[0]
    summary += (f" Best epoch: {best} of {len(history)} by validation {main}; its weights (best.pt) give these "
                "metrics and the plots below, and are what predict and export use.")
    sections = [
        Section(f"Validation metrics of the best epoch ({best})", text=summary,
                tables=[Table(["metric", "value"], [[k, v] for k, v in final.items()])]),
        Section("Training", text=f"{len(history)} epochs, {sum(history.column('seconds')):.1f} s of training.",
                figures=figures["Training"]),
        Section("Validation", figures=figures["Validation"]),
        Section("Checks", text="\n\n".join(job.checks) or "almanac check found no mismatch between the model, "
                "the loss, the metrics and a training batch."),
        Section("Configuration", text="\n\n".join(config.reasons),
                tables=[Table(["setting", "value"], settings)]),
        Section("History", tables=[Table(history.columns, [[r.get(c, math.nan) for c in history.columns]
                                                           for r in history])]),
    ]
    title = f"almanac train — {path.name}"
    return write_html(path / "report.html", title, sections,
                      subtitle=f"{config.model} · {config.activation} · {config.loss} · seed {config.seed}")


