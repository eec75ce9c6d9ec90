"""``am.lint.check``: catch mismatched activation, loss and metric choices in any PyTorch model.

The model's last operations are read by tracing its forward pass, so ``torch.softmax(x, 1)`` inside ``forward``
counts as much as an ``nn.Softmax`` layer. Static rules need only the model and the loss (a dry run on a random
input read from the first layer); the others use the sample batch, and a backward pass for the gradient rules.
The model's parameters, buffers, gradients, train/eval modes and the RNG state are left as they were.

>>> import torch
>>> from torch import nn
>>> import almanac as am
>>> model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5), nn.Softmax(dim=1))
>>> report = am.lint.check(model, nn.CrossEntropyLoss())
>>> report.ok, report.codes
(False, ['AL001'])
>>> print(report.findings[0])  # doctest: +ELLIPSIS
3: error AL001: double softmax: ... (hint: remove the final nn.Softmax: CrossEntropyLoss expects logits)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from almanac._checks import check_choice, to_tensor
from almanac.errors import ConfigError, ShapeError, problem
from almanac.lint.context import new_context
from almanac.lint.losses import LossKind, classify_loss, identify_by_call
from almanac.lint.report import Finding, Report
from almanac.lint.rules import ALL_RULES, RULES, Rule
from almanac.lint.trace import Trace, preserved, trace_model
from almanac.registry import TASKS

__all__ = ["RULES", "Finding", "Report", "Rule", "check"]


def _gradients(model: nn.Module, loss: LossKind, output: Tensor, target: Tensor
               ) -> tuple[Tensor | None, dict[str, Tensor | None]]:
    """The loss on the sample batch and d loss / d parameter, without touching ``.grad``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = loss.fn(output, target)  # type: ignore[misc]
    except Exception:  # the loss rejects this batch: the format rules say why
        return None, {}
    if not isinstance(value, Tensor) or not value.is_floating_point() or value.numel() == 0:
        return None, {}
    value = value.sum() if value.numel() > 1 else value.reshape(())  # reduction="none": the sum has the same graph
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not params:
        return value, {}
    if not value.requires_grad:
        return value, {n: None for n, _ in params}
    grads = torch.autograd.grad(value, [p for _, p in params], allow_unused=True)
    return value, {n: (g.detach() if g is not None else None) for (n, _), g in zip(params, grads)}


def check(
    model: nn.Module,
    loss: Any = None,
    *,
    inputs: Any = None,
    target: Any = None,
    metrics: Iterable[Any] | None = None,
    task: str | None = None,
) -> Report:
    """Check a model, its loss, metrics and a sample batch against the rules AL001–AL020.

    Args:
        model: any ``nn.Module`` (Sequential or a custom ``forward`` with functional calls).
        loss: a PyTorch loss module or function (``nn.CrossEntropyLoss()``, ``F.cross_entropy``), an almanac loss
            (object, function or name such as ``"focal"``), a PyTorch loss class name, or any callable.
        inputs: a sample batch of inputs ``(N, ...)``; enables the rules on data, activations and gradients.
        target: the sample batch's targets; enables the rules on targets, metrics and gradients.
        metrics: metric names (``"accuracy"``), almanac metric objects, torchmetrics metrics or scikit-learn
            metric functions.
        task: one of ``"binary"``, ``"multiclass"``, ``"multilabel"``, ``"regression"``, ``"segmentation"``,
            ``"adversarial"``; inferred from the loss and the target when None.

    Returns:
        A :class:`Report`: ``findings`` (errors first), ``ok`` (no error), ``str(report)`` one finding a line.

    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
    >>> check(model, nn.BCEWithLogitsLoss()).codes
    ['AL002']
    >>> check(model, nn.BCELoss(), inputs=torch.randn(16, 4), target=torch.randint(0, 2, (16, 1)).float()).ok
    True
    """
    if not isinstance(model, nn.Module):
        raise problem(ConfigError, "model", "to be a torch.nn.Module", type(model).__name__,
                      "pass the model object (an nn.Module), not its class or output")
    model = getattr(model, "_orig_mod", model)  # torch.compile's wrapper: check the module it compiles
    if task is not None:
        check_choice(task, "task", TASKS)
    x = to_tensor(inputs, "inputs") if inputs is not None else None
    y = to_tensor(target, "target") if target is not None else None
    if x is not None and y is not None and x.ndim and y.ndim and x.shape[0] != y.shape[0]:
        raise problem(ShapeError, "target", f"to have one row per input row ({x.shape[0]})",
                      f"{y.shape[0]} rows", "pass the inputs and targets of the same batch")
    kind = classify_loss(loss)
    loss_value, grads = None, {}
    with preserved(model):
        trace = _trace(model, x)
        output = trace.output_value if trace is not None else None
        if output is not None and kind is not None and not kind.known:
            for sample in ([y] if y is not None else _sample_targets(output)):
                kind = identify_by_call(kind, output, sample)
                if kind.known:
                    break
        if output is not None and x is not None and y is not None and kind is not None and kind.fn is not None:
            loss_value, grads = _gradients(model, kind, output, y)
        ctx = new_context(model=model, loss=kind, trace=trace, inputs=x, target=y, metrics=list(metrics or ()),
                          task=task, dynamic=x is not None, loss_value=loss_value,
                          grads=grads)
        findings = [f for rule in ALL_RULES for f in rule(ctx)]
    order = {"error": 0, "warning": 1}
    findings.sort(key=lambda f: (order.get(f.severity, 2), f.code))
    return Report(findings)


def _sample_targets(output: Tensor) -> list[Tensor]:
    """Targets a custom loss may take for ``output`` (class indices, then 0/1 of its shape), to see what it calls."""
    if output.ndim == 0 or not output.is_floating_point():
        return []
    samples = [torch.zeros_like(output)]
    if output.ndim >= 2:
        samples.insert(0, torch.zeros((output.shape[0], *output.shape[2:]), dtype=torch.long, device=output.device))
    return samples


def _trace(model: nn.Module, x: Tensor | None) -> Trace | None:
    if x is None:
        with torch.no_grad():
            return trace_model(model)
    try:
        return trace_model(model, x, measure=True)
    except Exception as exc:  # the user's model rejects the user's batch: say so plainly
        raise problem(ShapeError, "inputs", "to be accepted by the model's forward",
                      f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                      "pass a sample batch of the shape the model takes") from exc


