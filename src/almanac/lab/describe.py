"""``almanac explain``: what a function of the catalog is, read from its spec, with a plot.

- an activation: formula, spec facts, and its curve with its derivative;
- a loss: its facts, and the loss and its gradient as a function of the prediction for a fixed target;
- a metric: definition, range, what it needs, when to use it and when not.

Several names overlay in one figure. :func:`families` compares the three families from the registries.
A name that lives in two families (``mse`` is a loss and a metric) is explained in both; ``loss:mse`` picks one.

>>> print(explain(["relu"]).text.splitlines()[1])
  formula: max(x, 0)
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import math
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from almanac.errors import ConfigError, UnknownNameError, problem
from almanac.registry import ActivationSpec, LossSpec, MetricSpec, Spec, normalize_name

__all__ = ["Explanation", "explain", "families", "lookup"]

# family name → its package; the prefix users may write ("loss:mse") is the family name.
FAMILIES = {"activation": "almanac.activations", "loss": "almanac.losses", "metric": "almanac.metrics"}

# What a metric is good and bad for, beyond what its facts say. Knowledge, keyed by canonical name.
_METRIC_NOTES: dict[str, tuple[str, str]] = {
    "accuracy": ("balanced classes where every error costs the same",
                 "imbalanced data: predicting the majority class scores the majority rate"),
    "balanced_accuracy": ("imbalanced classes: the mean of per-class recalls, chance level is 1/C",
                          "when the classes' costs differ in a known way — weight them instead"),
    "f1": ("imbalanced data where the positive class matters and true negatives are cheap",
           "when true negatives matter, or to compare models independently of the threshold"),
    "fbeta": ("a chosen trade-off of recall (beta > 1) against precision (beta < 1)",
              "when no one can say how much more recall is worth than precision"),
    "precision": ("when false positives are costly (alerts a person must check)", "alone: predicting one sure positive "
                  "scores 1"),
    "recall": ("when misses are costly (screening)", "alone: predicting everything positive scores 1"),
    "matthews_corrcoef": ("one honest number for a confusion matrix, even under heavy imbalance",
                          "when readers need a rate they can interpret as a fraction"),
    "cohen_kappa": ("agreement beyond chance (annotators, ordinal scales)", "comparing models on different label "
                    "distributions"),
    "auroc": ("ranking quality independent of the threshold, classes not too skewed",
              "rare positives: it stays high while precision is poor — use average precision"),
    "average_precision": ("rare positives: the area under the precision-recall curve",
                          "comparing datasets with different positive rates (its chance level is the rate)"),
    "log_loss": ("judging predicted probabilities, not only decisions", "hard labels as predictions: one confident "
                 "mistake costs without bound"),
    "calibration_error": ("checking that predicted probabilities match frequencies",
                          "alone: a constant predictor at the base rate is perfectly calibrated"),
    "r2": ("regression: the share of the target's variance explained, 1 is perfect, 0 is the mean predictor",
           "a constant target (undefined), or comparing across datasets with different variances"),
    "explained_variance": ("regression when a constant offset does not matter", "when bias matters: it ignores it"),
    "mse": ("regression where large errors must weigh more", "targets with outliers: a few points dominate"),
    "rmse": ("regression, in the target's units, large errors weighing more", "targets with outliers"),
    "mae": ("regression in the target's units, robust to outliers", "when large errors are much worse than small"),
    "mape": ("relative errors on targets far from zero", "targets at or near zero: it explodes"),
    "msle": ("positive targets spanning orders of magnitude", "negative targets (undefined)"),
    "rmsle": ("positive targets spanning orders of magnitude", "negative targets (undefined)"),
    "iou": ("segmentation and detection overlap; harsh on small objects", "images with nothing to find, unless "
            "their handling is stated"),
    "dice": ("segmentation overlap, the F1 of pixels", "images with nothing to find, unless their handling is stated"),
    "confusion_matrix": ("seeing which classes are confused with which", "as a single score"),
}


def _package(family: str) -> Any:
    return importlib.import_module(FAMILIES[family])


def lookup(name: str) -> list[Spec]:
    """The specs a user-given name refers to, one per family it lives in; ``"loss:mse"`` picks a family.

    Raises :class:`~almanac.errors.UnknownNameError` listing the closest names of all families.
    """
    family, _, bare = name.rpartition(":")
    if family:
        family = normalize_name(family)
        family = family if family in FAMILIES else family.removesuffix("s")  # "losses:mse" works too
        if family not in FAMILIES:
            raise problem(ConfigError, "family prefix", f"to be one of {', '.join(FAMILIES)}", repr(family),
                          f"write for example loss:{bare}")
        return [_package(family).spec(bare)]
    found = []
    for fam in FAMILIES:
        package = _package(fam)
        try:
            found.append(package.spec(bare))
        except UnknownNameError:
            continue
    if not found:
        every = [n for fam in FAMILIES for n in _package(fam).names()]
        close = difflib.get_close_matches(normalize_name(bare), every, n=5, cutoff=0.5)
        hint = f"did you mean {', '.join(map(repr, close))}?" if close else "none is close"
        raise UnknownNameError(f"unknown name {bare!r}: not an activation, a loss or a metric — {hint} "
                               "See almanac explain --families")
    return found


# -- text ------------------------------------------------------------------------------------------------------
def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _interval(lo: float, hi: float) -> str:
    """``[0, ∞)``: closed brackets at finite ends, open at infinite ones."""
    def show(v: float) -> str:
        return "∞" if v == math.inf else "-∞" if v == -math.inf else f"{v:g}"

    return f"{'(' if lo == -math.inf else '['}{show(lo)}, {show(hi)}{')' if hi == math.inf else ']'}"


def _describe(spec: Spec) -> list[str]:
    lines = [f"{spec.name} ({spec.family}) — {spec.summary}",
             f"  {'definition' if isinstance(spec, MetricSpec) else 'formula'}: {spec.formula}"]
    if spec.aliases:
        lines.append(f"  aliases: {', '.join(spec.aliases)}")
    if spec.params:
        lines.append("  parameters: " + ", ".join(f"{k}={v!r}" for k, v in spec.params.items()))
    if isinstance(spec, ActivationSpec):
        lines += [
            f"  output range: {_interval(*spec.output_range)}; monotonic: {_yes(spec.monotonic)}; "
            f"smooth: {_yes(spec.smooth)}; zero-centred: {_yes(spec.zero_centered)}",
            f"  placement: {', '.join(sorted(spec.placement))}; kept for the backward pass: {spec.saves_for_backward}",
        ]
        if not spec.elementwise:
            lines.append("  acts along a whole dimension, not element by element: no curve is drawn")
    elif isinstance(spec, LossSpec):
        lines += [
            f"  expects: {spec.expects}; target: {spec.target}; tasks: {', '.join(spec.tasks)}",
            f"  robust to outliers: {_yes(spec.robust_to_outliers)}; made for imbalance: {_yes(spec.for_imbalance)}",
        ]
    elif isinstance(spec, MetricSpec):
        lines.append(f"  range: {_interval(*spec.range)}, {'higher' if spec.higher_is_better else 'lower'} is "
                     f"better; needs: {spec.needs}; tasks: {', '.join(spec.tasks)}; "
                     f"differentiable: {_yes(spec.differentiable)}")
        use, avoid = _metric_advice(spec)
        lines.append(f"  use it for: {'; '.join(use) or 'the tasks above'}")
        if avoid:
            lines.append(f"  not for: {'; '.join(avoid)}")
    if spec.references:
        lines.append(f"  references: {'; '.join(spec.references)}")
    return lines


def _metric_advice(spec: MetricSpec) -> tuple[list[str], list[str]]:
    """(use it for, not for): the notes on the metric, then what its facts imply."""
    use, avoid = [], []
    if spec.name in _METRIC_NOTES:
        use.append(_METRIC_NOTES[spec.name][0])
        avoid.append(_METRIC_NOTES[spec.name][1])
    if spec.needs in ("scores", "probabilities"):
        use.append("it reads scores, so it judges every threshold at once")
        avoid.append("reporting it alone when a decision at one threshold is what ships")
    elif spec.needs == "labels" and set(spec.tasks) & {"binary", "multiclass", "multilabel"} and not avoid:
        avoid.append("comparing models without fixing the threshold: it judges hard decisions")
    if not spec.differentiable:
        avoid.append("as a training loss: it has no useful gradient")
    return use, avoid


# -- curves ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Probe:
    """How to feed a loss one scalar prediction ``z``: the x grid, its label and the arguments built from ``z``."""

    grid: Tensor
    x_label: str
    args: Callable[[Tensor], tuple[Tensor, ...]]


def _required(function: Callable[..., Any]) -> list[str]:
    return [p.name for p in inspect.signature(function).parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]


def _loss_probe(spec: LossSpec, function: Callable[..., Any]) -> _Probe | None:
    """The probe of a loss, from its spec; None when the loss is not a function of a prediction."""
    required = _required(function)
    if not required or required[0] == "critic":  # gradient_penalty takes a model, not scores
        return None
    f64 = torch.float64
    one = torch.ones(1, dtype=f64)
    logits = torch.linspace(-6, 6, 241, dtype=f64)
    extra = tuple(one for _ in required[2:])  # gaussian_nll's var: unit variance
    if spec.expects == "critic_scores":
        if len(required) == 1:
            return _Probe(logits, "critic score of a generated sample", lambda z: (z.view(1),))
        return _Probe(logits, "critic score of a real sample (generated at 0)", lambda z: (z.view(1), 0 * one))
    if spec.target == "real":
        return _Probe(torch.linspace(-2, 4, 241, dtype=f64), "prediction (target = 1)",
                      lambda z: (z.view(1), one, *extra))
    if spec.target == "class_indices":
        return _Probe(logits, "logit of the true class (the other class at 0)",
                      lambda z: (torch.stack([0 * z, z]).view(1, 2), torch.ones(1, dtype=torch.long)))
    if spec.target == "soft_labels":
        return _Probe(logits, "logit of class 1 (class 0 at 0; target probabilities [0.25, 0.75])",
                      lambda z: (torch.stack([0 * z, z]).view(1, 2), torch.tensor([[0.25, 0.75]], dtype=f64)))
    if spec.target == "mask":
        mask = torch.ones(1, 1, 4, 4, dtype=f64)
        return _Probe(logits, "logit of every pixel of an all-foreground 4×4 mask", lambda z: (z * mask, mask))
    if spec.expects == "probabilities":
        return _Probe(torch.linspace(0.005, 0.995, 199, dtype=f64), "predicted probability (target = 1)",
                      lambda z: (z.view(1), one))
    return _Probe(logits, "logit (target = 1)", lambda z: (z.view(1), one))


def _loss_curve(probe: _Probe, function: Callable[..., Any]) -> tuple[list[float], list[float]]:
    values, grads = [], []
    for v in probe.grid:
        z = v.clone().requires_grad_(True)
        loss = function(*probe.args(z))
        (grad,) = torch.autograd.grad(loss, z)
        values.append(float(loss.detach()))
        grads.append(float(grad))
    return values, grads


@dataclass(frozen=True)
class Explanation:
    """The text of an explanation and the PNG written (None when nothing could be drawn)."""

    text: str
    figure: Path | None


def explain(names: Sequence[str], out: str | os.PathLike[str] | None = None) -> Explanation:
    """Explain ``names`` (activations, losses, metrics) and draw the curves of those that have one to ``out``.

    Activations overlay in one pair of panels (function, derivative), losses in another (loss, gradient against
    the prediction). Losses whose x-axes differ get their own panels, so no axis lies.
    """
    if not names:
        raise problem(ConfigError, "names", "at least one activation, loss or metric name", "none",
                      "for example: almanac explain gelu silu")
    specs = [spec for name in names for spec in lookup(name)]
    lines: list[str] = []
    for spec in specs:
        lines += [*_describe(spec), ""]
    panels: dict[str, list[tuple[str, list[float], list[float], list[float]]]] = {}
    for spec in specs:
        package = _package(spec.family)
        if isinstance(spec, ActivationSpec) and spec.elementwise:
            x = torch.linspace(-5, 5, 401)
            module = package.get(spec.name)  # holds the default value of a learnable parameter (prelu's slope)
            with torch.no_grad():
                learned = {k: v.detach() for k, v in module.named_parameters()}
                y = module(x)
                d = package.derivative(spec.name, x, **learned)
            panels.setdefault("x", []).append((spec.name, x.tolist(), y.tolist(), d.tolist()))
        elif isinstance(spec, LossSpec):
            function = getattr(package, spec.name)
            probe = _loss_probe(spec, function)
            if probe is None:
                lines.append(f"({spec.name} is not a function of one prediction: no curve is drawn)")
                continue
            values, grads = _loss_curve(probe, function)
            panels.setdefault(probe.x_label, []).append((spec.name, probe.grid.tolist(), values, grads))
    figure = None
    if panels and out is not None:
        figure = _draw(panels, Path(out))
        lines.append(f"plot: {figure}")
    elif not panels:
        lines.append("(nothing to plot: metrics and activations that act along a dimension are described, not drawn)")
    return Explanation("\n".join(lines).rstrip() + "\n", figure)


def _draw(panels: dict[str, list[tuple[str, list[float], list[float], list[float]]]], out: Path) -> Path:
    from almanac.train.report import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 3.6 * len(panels)), squeeze=False)
    for row, (x_label, curves) in enumerate(panels.items()):
        is_activation = x_label == "x"
        for name, x, y, d in curves:
            axes[row][0].plot(x, y, label=name)
            axes[row][1].plot(x, d, label=name)
        axes[row][0].set_title("activation f(x)" if is_activation else "loss")
        axes[row][1].set_title("derivative f'(x)" if is_activation else "gradient d loss / d prediction")
        for ax in axes[row]:
            ax.set_xlabel(x_label)
            ax.axhline(0, color="0.7", lw=0.8)
            ax.axvline(0, color="0.7", lw=0.8)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out)
    return out


# -- the three families ----------------------------------------------------------------------------------------
def _examples(names: Sequence[str], k: int = 4) -> str:
    return ", ".join(names[:k]) + (f", … ({len(names)} in all)" if len(names) > k else "")


def families() -> str:
    """The comparison of activations, losses and metrics, each cell computed from the registries' specs."""
    act, loss, metric = ([package.spec(n) for n in package.names()]
                         for package in map(_package, ("activation", "loss", "metric")))

    def where_placed(place: str) -> list[str]:
        return [s.name for s in act if place in s.placement]

    expects = Counter(s.expects for s in loss)
    needs = Counter(s.needs for s in metric)
    bounded = [s.name for s in act if all(math.isfinite(v) for v in s.output_range)]
    smooth = [s.name for s in act if s.smooth]
    kinked = [s.name for s in act if not s.smooth]
    differentiable = [s.name for s in metric if s.differentiable]
    higher = sum(s.higher_is_better for s in metric)

    def tasks_of(specs: Sequence[LossSpec | MetricSpec]) -> str:
        by_task: dict[str, list[str]] = {}
        for s in specs:
            for t in s.tasks:
                by_task.setdefault(t, []).append(s.name)
        return "; ".join(f"{t}: {', '.join(v[:3])}" for t, v in by_task.items())

    rows = [
        ("where it acts",
         f"inside the model, on every unit: {len(where_placed('hidden'))} fit hidden layers, "
         f"{len(where_placed('output'))} the output layer ({_examples(where_placed('output'), 3)})",
         "after the output, in training only: compares prediction and target; takes "
         + ", ".join(f"{k.replace('_', ' ')} ({v})" for k, v in expects.most_common()),
         "after training, on held-out predictions; needs "
         + ", ".join(f"{k} ({v})" for k, v in needs.most_common())),
        ("role",
         "makes stacked layers non-linear; at the output, maps scores to a range",
         "the number gradient descent minimises; its gradient trains the weights",
         "the number people read to judge the model; never back-propagated"),
        ("what it outputs",
         f"a tensor of the input's shape; {len(bounded)} of {len(act)} bounded "
         f"({_examples(bounded, 3)})",
         "one number per element or sample, reduced to a scalar (reduction='mean'|'sum'|'none')",
         f"one number per dataset (streaming over batches); higher is better for {higher} of {len(metric)}"),
        ("examples", f"hidden: {_examples(where_placed('hidden'), 4)}; output: {_examples(where_placed('output'), 3)}",
         tasks_of(loss), tasks_of(metric)),
        ("differentiable",
         f"yes, almost everywhere: {len(smooth)} smooth, {len(kinked)} with kinks ({_examples(kinked, 3)})",
         f"yes, all {len(loss)}: training needs the gradient",
         f"{len(differentiable)} of {len(metric)} ({_examples(differentiable, 3) or 'none'}); the others count "
         "hard decisions or ranks"),
    ]
    header = ("", f"activations ({len(act)})", f"losses ({len(loss)})", f"metrics ({len(metric)})")
    return _text_table(header, rows)


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int = 34) -> str:
    import textwrap

    first = max(len(r[0]) for r in rows)
    lines = []
    for row in [header, *rows]:
        cells = [textwrap.wrap(c, width) or [""] for c in row[1:]]
        height = max(len(c) for c in cells)
        for i in range(height):
            label = row[0] if i == 0 else ""
            lines.append(f"{label:<{first}} │ " + " │ ".join(f"{(c[i] if i < len(c) else ''):<{width}}"
                                                           for c in cells).rstrip())
        lines.append("─" * (first + 3 * len(cells) + width * len(cells)))
    return "\n".join(lines) + "\n"
