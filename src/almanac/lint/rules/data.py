"""Rules on the sample batch: targets against the loss and the output (AL005, AL007–AL010), metrics against the
task (AL011, AL012) and the inputs' scale (AL018)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from almanac.lint.context import Context, TargetFacts, describe
from almanac.lint.report import Finding
from almanac.lint.rules._base import finding

__all__ = ["DATA_RULES"]

#: Metrics that stay informative when one class is rare.
_IMBALANCE_AWARE = frozenset({"f1", "fbeta", "balanced_accuracy", "auroc", "average_precision", "matthews_corrcoef",
                              "precision", "recall", "cohen_kappa", "pr_curve", "roc_curve"})
_EPS = 1e-6


def _shape(shape: tuple[int, ...]) -> str:
    return "(N, " + ", ".join(map(str, shape[1:])) + ")" if len(shape) > 1 else "(N,)"


def multilabel_softmax(ctx: Context) -> Iterator[Finding]:
    """AL005: rows with zero or several positives trained with softmax or cross-entropy."""
    facts, target, loss, head = ctx.target_facts, ctx.target, ctx.loss, ctx.head
    if facts is None or target is None or target.ndim != 2 or target.shape[1] < 2 or not facts.binary01:
        return
    positives = target.double().sum(dim=1)
    not_one = float((positives != 1).double().mean())
    if not_one == 0.0:
        return  # one-hot rows: a multiclass target
    softmax_loss = loss is not None and (loss.applies == "softmax" or loss.class_indices
                                         or loss.expects == "log_probabilities")
    softmax_head = head is not None and head.kind in ("softmax", "log_softmax")
    if not (softmax_loss or softmax_head):
        return
    where = "loss" if softmax_loss else head.op.where  # type: ignore[union-attr]
    used = loss.name if softmax_loss else describe(head.op)  # type: ignore[union-attr]
    yield finding("AL005", f"multi-label targets ({not_one:.0%} of rows have zero or several positives) trained "
                           f"with {used}, which makes the labels compete for one unit of probability",
                  "use one sigmoid per label: raw scores with BCEWithLogitsLoss (am.losses 'binary_cross_entropy')",
                  where)


def unreachable_targets(ctx: Context) -> Iterator[Finding]:
    """AL007: the output activation's range does not cover the targets (regression)."""
    head, facts, loss, target = ctx.head, ctx.target_facts, ctx.loss, ctx.target
    if head is None or facts is None or target is None or head.range is None or head.kind == "identity":
        return
    if loss is None:
        out = ctx.output_shape
        if not target.is_floating_point() or out is None or target.numel() != _numel(out, target.shape[0]):
            return
    elif loss.family != "regression":
        return
    lo, hi = head.range
    if facts.low < lo - _EPS or facts.high > hi + _EPS:
        what = describe(head.op)
        yield finding("AL007", f"the output ends with {what}, whose values lie in [{lo:g}, {hi:g}], but the "
                               f"targets span [{facts.low:g}, {facts.high:g}]",
                      f"remove the final {what} (or rescale the targets into its range)", head.op.where)


def _numel(shape: tuple[int, ...], batch: int) -> int:
    n = batch
    for size in shape[1:]:
        n *= size
    return n


def _class_like(ctx: Context) -> bool:
    facts, target, classes = ctx.target_facts, ctx.target, ctx.classes
    if facts is None or target is None or facts.continuous or facts.low < 0:
        return False
    if ctx.task in ("binary", "multiclass"):
        return True
    if facts.integer_dtype and len(facts.distinct) <= 20:
        return True
    single = target.ndim == 1 or (target.ndim == 2 and target.shape[1] == 1)  # (N,) or (N, 1) labels
    return classes is not None and classes >= 2 and single and facts.high < classes and len(facts.distinct) > 1


def regression_on_labels(ctx: Context) -> Iterator[Finding]:
    """AL008: a regression loss on the class indices of a classification task."""
    loss = ctx.loss
    if loss is None or loss.family != "regression" or loss.target == "count" or not _class_like(ctx):
        return
    classes = len(ctx.target_facts.distinct) if ctx.target_facts is not None else 0
    yield finding("AL008", f"{loss.name} is a regression loss, but the targets are class labels "
                           f"({classes} classes): it treats class 2 as twice class 1",
                  "output one score per class and use CrossEntropyLoss (or BCEWithLogitsLoss for two classes)",
                  "loss")


def classification_on_values(ctx: Context) -> Iterator[Finding]:
    """AL009: a classification loss on continuous targets."""
    loss, facts = ctx.loss, ctx.target_facts
    if loss is not None and facts is not None and _continuous_for_classification(ctx):
        yield finding("AL009", f"{loss.name} is a classification loss, but the targets are continuous values "
                               f"in [{facts.low:g}, {facts.high:g}]",
                      "use a regression loss (MSELoss, HuberLoss, am.losses 'huber') on a raw output", "loss")


def _continuous_for_classification(ctx: Context) -> bool:
    loss, facts, target = ctx.loss, ctx.target_facts, ctx.target
    if loss is None or loss.family != "classification" or facts is None or target is None:
        return False
    if ctx.task == "regression":
        return True
    if not facts.continuous:
        return False
    if loss.class_indices:
        if ctx.output_shape is not None and tuple(target.shape) == ctx.output_shape:  # class probabilities?
            return facts.low < -_EPS or facts.high > 1 + _EPS
        return True
    if loss.binary_targets:
        return facts.low < -_EPS or facts.high > 1 + _EPS
    if loss.target == "signs":
        return facts.low < -1 - _EPS or facts.high > 1 + _EPS
    return False


def target_format(ctx: Context) -> Iterator[Finding]:
    """AL010: a target the loss cannot use (dtype, shape, label range, number of output units)."""
    loss, facts, target, out = ctx.loss, ctx.target_facts, ctx.target, ctx.output_shape
    if loss is None or not loss.known or facts is None or target is None or _continuous_for_classification(ctx):
        return
    problem = None
    if loss.class_indices:
        problem = _class_index_format(ctx)
    elif loss.binary_targets and out is not None:
        if tuple(target.shape[1:]) != out[1:]:
            if target.ndim == 1 and len(out) == 2 and out[1] > 1 and facts.integer_valued:
                problem = (f"class indices {_shape(tuple(target.shape))} against {out[1]} output units: "
                           f"{loss.name} needs one 0/1 column per unit",
                           "output one unit for a binary task, or use CrossEntropyLoss with class indices")
            else:
                problem = (f"target of shape {_shape(tuple(target.shape))} against output {_shape(out)}",
                           "make them the same shape, for example target.view_as(output) or output.squeeze(1)")
        elif not facts.continuous and (facts.low < 0 or facts.high > 1):
            problem = (f"{loss.name} targets must lie in [0, 1], got values in [{facts.low:g}, {facts.high:g}]",
                       _to_unit_fix(facts))
        elif loss.torch_native and not target.is_floating_point():
            problem = (f"integer targets ({target.dtype}) where {loss.name} needs float targets",
                       "pass target.float()")
    elif (loss.family == "regression" and out is not None and not _class_like(ctx)
          and tuple(target.shape[1:]) != out[1:]):
        problem = (f"target of shape {_shape(tuple(target.shape))} against output {_shape(out)}: "
                   f"{loss.name} would broadcast them", "make them the same shape, for example "
                   "target.view_as(output) or output.squeeze(1)")
    if problem is not None:
        yield finding("AL010", problem[0], problem[1], "data")


def _class_index_format(ctx: Context) -> tuple[str, str] | None:
    loss, facts, target, out, classes = ctx.loss, ctx.target_facts, ctx.target, ctx.output_shape, ctx.classes
    if loss is None or facts is None or target is None:
        return None
    if out is not None and tuple(target.shape) == out and target.is_floating_point() and (classes or 2) > 1:
        return None  # class probabilities of the output's shape
    if out is not None and target.ndim == len(out) and target.ndim >= 2 and target.shape[1] == 1 and out[1] != 1:
        return (f"target of shape {_shape(tuple(target.shape))} against scores {_shape(out)}: {loss.name} needs "
                "one class index per sample, shape (N,)", "pass target.view(-1) (or target.squeeze(1))")
    if not facts.integer_dtype:
        return (f"float targets ({target.dtype}) where {loss.name} needs class indices",
                "pass target.long()")
    if classes is None:
        return None
    labels = target if loss.ignore_index is None else target[target != loss.ignore_index]
    if not labels.numel():
        return None
    low, high = int(labels.min()), int(labels.max())
    if classes == 1:
        return (f"{loss.name} on one output unit: its softmax is always 1 and the loss always 0",
                "output one unit per class (2 for a binary task), or one unit with BCEWithLogitsLoss")
    if low < 0 or high >= classes:
        return (f"labels in [{low}, {high}] but the model has {classes} output units (classes [0, {classes}))",
                _label_fix(labels, low, high, classes))
    return None


def _to_unit_fix(facts: TargetFacts) -> str:
    """How to bring 0/1 targets stored another way into [0, 1]."""
    if set(facts.distinct) <= {0.0, 255.0}:
        return "the targets are 0/255 masks: divide them by 255 (target / 255)"
    if set(facts.distinct) <= {-1.0, 1.0}:
        return "map the -1/1 labels to 0/1: (target + 1) / 2"
    return "map the labels to 0/1 (for example (target > 0).float())"


def _label_fix(labels: torch.Tensor, low: int, high: int, classes: int) -> str:
    """The fix for class labels outside [0, classes), for the case at hand."""
    present = set(torch.unique(labels).tolist())
    if present <= {0, 255}:
        return "the labels are 0/255 masks: divide them by 255 (target // 255)"
    if low >= 1 and high == classes:
        return f"the labels look 1-based ([1, {classes}]): pass target - 1"
    if low < 0 and high < classes:
        return (f"labels below 0 are not classes: map them into [0, {classes}), or pass ignore_index={low} if they "
                "mark padding")
    return f"make the last layer output {high + 1} units (one per class), or fix the labels"


def _upper_bound(count: int, total: int, confidence: float = 0.95) -> float:
    """One-sided Clopper–Pearson upper bound of a share seen ``count`` times in ``total`` draws.

    >>> round(_upper_bound(2, 100), 4)  # 2 of 100: the share is below 6.2% with 95% confidence
    0.0616
    """
    from scipy.stats import beta

    return 1.0 if count >= total else float(beta.ppf(confidence, count + 1, total - count))


def imbalance_with_accuracy(ctx: Context) -> Iterator[Finding]:
    """AL011: a minority class surely below 10% (95% confidence given the batch size; below half the balanced
    share for more than 5 classes) judged by accuracy alone."""
    names = {m.name for m in ctx.metrics}
    if "accuracy" not in names or names & _IMBALANCE_AWARE:
        return
    counts = ctx.class_counts()
    if not counts:
        return
    observed, total = counts
    rarest = min(observed)
    # rare: below 10%, and below half the balanced share for many classes; the rarest of K classes is picked
    # after the fact, so each bound is taken at 1 - 5%/K (Bonferroni) for 95% confidence over all of them
    threshold = min(0.1, 0.5 / len(observed))
    bound = _upper_bound(rarest, total, 1 - 0.05 / len(observed))
    if bound >= threshold:
        return
    yield finding("AL011", f"the rarest class is {rarest} of {total} samples ({rarest / total:.1%}; below "
                           f"{bound:.1%} with 95% confidence over the {len(observed)} classes), and accuracy alone "
                           "rewards predicting the majority",
                  "add F1, balanced accuracy or AUC-PR (average_precision), and weight the loss "
                  "(pos_weight / class weights) or use focal loss", "metrics")


def metric_task(ctx: Context) -> Iterator[Finding]:
    """AL012: a metric that does not fit the task, or a score metric on hard labels."""
    task, head = ctx.inferred_task, ctx.head
    for metric in ctx.metrics:
        if metric.tasks is None:
            continue
        if head is not None and head.kind == "labels" and metric.needs in ("scores", "probabilities"):
            yield finding("AL012", f"{metric.name} ranks scores, but the model outputs hard labels "
                                   f"({describe(head.op)})", f"compute {metric.name} on the scores or "
                                   "probabilities, before the argmax/threshold", "metrics")
            continue
        if task is None or task == "adversarial":
            continue
        allowed = set(metric.tasks)
        fits = task in allowed or (task == "segmentation" and allowed & {"binary", "multiclass"})
        if not fits:
            yield finding("AL012", f"{metric.name} is a metric for {' / '.join(metric.tasks)}, but this is a "
                                   f"{task} task", _metric_fix(task), "metrics")


def _metric_fix(task: str) -> str:
    if task == "regression":
        return "use regression metrics: RMSE, MAE or R²"
    return "use classification metrics: F1, balanced accuracy, AUROC or AUC-PR"


def unnormalised_inputs(ctx: Context) -> Iterator[Finding]:
    """AL018: feature scales above 100, or means far from zero against their spread."""
    x = ctx.inputs
    if x is None or not x.is_floating_point() or x.ndim < 2 or x.shape[0] < 2:
        return
    with torch.no_grad():
        flat = x.detach().double()
        flat = flat.reshape(flat.shape[0], -1) if x.ndim == 2 else flat.transpose(0, 1).reshape(x.shape[1], -1).T
        finite = torch.isfinite(flat).all(dim=0)
        flat = flat[:, finite]
        if not flat.numel():
            return
        mean, std = flat.mean(dim=0), flat.std(dim=0)
        scale = torch.maximum(mean.abs(), std)
        off_center = (mean.abs() > 10 * std) & (mean.abs() > 1) & (std > 0)
    big = int((scale > 100).sum())
    shifted = int(off_center.sum())
    if big or shifted:
        what = []
        if big:
            what.append(f"{big} feature{'s' * (big > 1)} with scale up to {float(scale.max()):.3g}")
        if shifted:
            what.append(f"{shifted} feature{'s' * (shifted > 1)} whose mean is over 10 standard deviations from 0")
        yield finding("AL018", f"inputs are far from normalised: {' and '.join(what)}",
                      "standardise the inputs (subtract the mean, divide by the std of the training set)", "data")


DATA_RULES = (multilabel_softmax, unreachable_targets, regression_on_labels, classification_on_values,
              target_format, imbalance_with_accuracy, metric_task, unnormalised_inputs)
