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

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from almanac._checks import check_choice, to_tensor
from almanac.errors import ConfigError, ShapeError, UnknownNameError, problem
from almanac.lint.context import new_context
from almanac.lint.losses import LossKind, classify_loss, kind_of_op
from almanac.lint.report import Finding, Report
from almanac.lint.rules import ALL_RULES, RULES, Rule, finding
from almanac.lint.trace import Trace, first_tensor, preserved, trace_loss, trace_model
from almanac.lint.watch import watch
from almanac.registry import TASKS

__all__ = ["RULES", "Finding", "Report", "Rule", "check", "watch"]

_NO_OP = -3  # the source of a tensor no traced op produced


@dataclass(frozen=True)
class _Site:
    """One place where a loss scores a tensor: the loss's kind, the tensor, the op that made it and the target."""

    kind: LossKind | None
    output: Tensor | None
    source: int | None
    target: Tensor | None


def _gradients(model: nn.Module, value: Any) -> tuple[Tensor | None, dict[str, Tensor | None]]:
    """The loss on the sample batch and d loss / d parameter, without touching ``.grad``."""
    value = first_tensor(value)
    if value is None or not value.is_floating_point() or value.numel() == 0:
        return None, {}
    value = value.sum() if value.numel() > 1 else value.reshape(())  # reduction="none": the sum has the same graph
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not params:
        return value, {}
    if not value.requires_grad:
        return value, {n: None for n, _ in params}
    try:
        grads = torch.autograd.grad(value, [p for _, p in params], allow_unused=True)
    except RuntimeError:  # the loss ran its own backward (graph freed) or cut it in a way autograd rejects
        return value, {}
    return value, {n: (g.detach() if g is not None else None) for (n, _), g in zip(params, grads)}


def _inputs(inputs: Any) -> Any:
    """A tensor, a tuple of positional arguments (``model(*inputs)``) or a dict of keyword arguments."""
    if inputs is None or isinstance(inputs, Tensor):
        return inputs
    if isinstance(inputs, dict):
        return {k: v if isinstance(v, Tensor) or not _numeric(v) else to_tensor(v, f"inputs[{k!r}]")
                for k, v in inputs.items()}
    if isinstance(inputs, tuple) and any(isinstance(v, Tensor) for v in inputs):
        return tuple(v if isinstance(v, Tensor) or not _numeric(v) else to_tensor(v, "inputs") for v in inputs)
    if isinstance(inputs, list) and any(isinstance(v, (Tensor, dict)) for v in inputs):
        return (inputs,)  # a list of images or samples (detection models): one argument, as it is
    return to_tensor(inputs, "inputs")


def _numeric(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (np.ndarray, list)) and np.asarray(value).dtype.kind in "biuf"


def check(
    model: nn.Module,
    loss: Any = None,
    *,
    inputs: Any = None,
    target: Any = None,
    metrics: Iterable[Any] | None = None,
    task: str | None = None,
    ignore: Iterable[str] = (),
) -> Report:
    """Check a model, its loss, metrics and a sample batch against the rules AL001–AL020.

    The loss call is traced as well as the model: the head and target rules judge what reaches each PyTorch loss
    function (after reshapes, slicing, tuple/dict indexing or arithmetic in a custom loss), so the class count is
    the size of the class dimension there (``V`` for a language model's ``(N·T, V)`` scores).

    Args:
        model: any ``nn.Module`` (Sequential or a custom ``forward`` with functional calls).
        loss: a PyTorch loss module or function (``nn.CrossEntropyLoss()``, ``F.cross_entropy``), an almanac loss
            (object, function or name such as ``"focal"``), a PyTorch loss class name, or any callable
            ``loss(output, target)`` (it may index a tuple or dict output).
        inputs: a sample batch: a tensor ``(N, ...)``, a tuple (``model(*inputs)``), a dict (``model(**inputs)``)
            or a list of tensors (``model(inputs)``); enables the rules on data, activations and gradients.
        target: the sample batch's targets; enables the rules on targets, metrics and gradients.
        metrics: metric names (``"accuracy"``), almanac metric objects, torchmetrics metrics or scikit-learn
            metric functions.
        task: one of ``"binary"``, ``"multiclass"``, ``"multilabel"``, ``"regression"``, ``"segmentation"``,
            ``"adversarial"``; inferred from the loss and the target when None.
        ignore: rule codes to leave out, for example ``["AL019"]``.

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
    skip = _ignored(ignore)
    x = _inputs(inputs)
    y = None if target is None or _structured(target) else to_tensor(target, "target")
    raw = y if y is not None else target  # a tuple/dict target (detection boxes...) goes to the loss as it is
    kind = classify_loss(loss)
    dynamic = x is not None
    with preserved(model), (torch.enable_grad() if dynamic else torch.no_grad()):
        trace = _trace(model, x)
        if trace is not None and dynamic:
            trace.batch = _batch(trace, y, trace.batch)
        sites, trace = _sites(trace, kind, y, dynamic, raw)
        loss_value, grads = None, {}
        if trace is not None and dynamic and raw is not None and trace.loss_value is not None:
            loss_value, grads = _gradients(model, trace.loss_value)
        return analyse(model, trace, sites, inputs=x, target=raw, metrics=metrics, task=task, dynamic=dynamic,
                       loss_value=loss_value, grads=grads, skip=skip)


def analyse(model: nn.Module, trace: Trace | None, sites: list[_Site], *, inputs: Any, target: Any,
            metrics: Iterable[Any] | None, task: str | None, dynamic: bool, loss_value: Tensor | None,
            grads: dict[str, Tensor | None], skip: set[str]) -> Report:
    """Every rule on every site of a traced step (from :func:`check` or :func:`watch`), errors first."""
    first = next((t for t in _flat(inputs) if t.is_floating_point()), next(iter(_flat(inputs)), None))
    findings: list[Finding] = []
    for site in sites:
        ctx = new_context(model=model, loss=site.kind, trace=trace, inputs=first, target=site.target,
                          metrics=list(metrics or ()), task=task, dynamic=dynamic, loss_value=loss_value,
                          grads=grads, output=site.output, source=site.source)
        for rule in ALL_RULES:
            try:
                findings += list(rule(ctx))
            except Exception as exc:  # a rule that cannot read this setup says so instead of failing the check
                findings.append(finding("AL000", f"rule {rule.__name__} was not applied: {type(exc).__name__}: "
                                                 f"{str(exc).splitlines()[0] if str(exc) else ''}",
                                        "report this setup to almanac's issue tracker", "forward"))
    findings += _loss_findings(trace, target, findings)
    findings += _opaque(model, trace)
    order = {"error": 0, "warning": 1}
    unique = [f for f in dict.fromkeys(findings) if f.code not in skip]
    unique.sort(key=lambda f: (order.get(f.severity, 2), f.code))
    return Report(unique)


def _ignored(ignore: Iterable[str]) -> set[str]:
    codes = {str(c).strip().upper() for c in ([ignore] if isinstance(ignore, str) else ignore) if str(c).strip()}
    unknown = sorted(codes - set(RULES))
    if unknown:
        raise problem(UnknownNameError, "ignore", f"rule codes ({', '.join(sorted(RULES))})", ", ".join(unknown),
                      "pass codes such as 'AL019'")
    return codes


def _flat(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return [t for t in items if isinstance(t, Tensor)]


def _batch(trace: Trace, y: Tensor | None, fallback: int) -> int:
    """The batch size, read from the target and the output (a sequence-first model's input starts with time)."""
    out = trace.output_tensor
    if y is not None and y.ndim and out is not None and out.ndim and int(y.shape[0]) in tuple(out.shape):
        return int(y.shape[0])
    return int(out.shape[0]) if out is not None and out.ndim else fallback


def _structured(target: Any) -> bool:
    """A dict, or a tuple/list holding tensors or dicts: passed to the loss as it is."""
    return isinstance(target, dict) or (isinstance(target, (tuple, list)) and any(
        isinstance(t, (Tensor, dict)) for t in target))


def _sites(trace: Trace | None, kind: LossKind | None, y: Tensor | None, dynamic: bool, raw: Any = None
           ) -> tuple[list[_Site], Trace | None]:
    """Where the loss scores a tensor. An almanac loss is judged on the model's output by its spec; a PyTorch loss
    or a custom callable is traced, and each PyTorch loss function it calls is a site of its own."""
    output = trace.output_tensor if trace is not None else None
    plain = _Site(kind, output, None, y)
    if trace is None or kind is None or kind.fn is None or output is None:
        return [plain], trace
    if kind.known and not kind.torch_native:  # an almanac loss: its spec says what it takes
        traced = trace_loss(trace, kind.fn, output, raw) if raw is not None and dynamic else trace
        return [plain], traced
    argument = output if kind.known else trace.output_value  # a custom loss may index a tuple or dict itself
    samples = [raw] if raw is not None else _sample_targets(output)
    traced = trace
    for sample in samples:
        traced = trace_loss(trace, kind.fn, argument, sample)
        calls = traced.loss_ops
        if not calls:
            continue
        name = kind.name if kind.known and len(calls) == 1 else None
        return loss_sites(traced, name, kind.name, keep_target=raw is not None), traced
    return [plain], traced if raw is not None else trace


def loss_sites(trace: Trace, name: str | None, caller: str | None, keep_target: bool = True) -> list[_Site]:
    """A site for each PyTorch loss function in ``trace``: what reached it, the op that made it, its target."""
    sites = []
    for op in trace.loss_ops:
        scored, target, options = op.loss_call  # type: ignore[misc]
        module = op.module if isinstance(op.module, nn.modules.loss._Loss) else None
        label = name or (f"{caller} (F.{op.kind})" if caller else type(module).__name__ if module is not None
                         else f"F.{op.kind}")
        source = trace.source(scored)
        sites.append(_Site(kind_of_op(op.kind, options, label), scored, _NO_OP if source is None else source,
                           target if keep_target else None))
    return sites


def _sample_targets(output: Tensor) -> list[Tensor]:
    """Targets a custom loss may take for ``output`` (class indices, then 0/1 of its shape), to see what it calls."""
    if output.ndim == 0 or not output.is_floating_point():
        return []
    samples = [torch.zeros_like(output)]
    if output.ndim >= 2:
        samples.insert(0, torch.zeros((output.shape[0], *output.shape[2:]), dtype=torch.long, device=output.device))
    return samples


def _loss_findings(trace: Trace | None, y: Any, found: list[Finding]) -> list[Finding]:
    """The loss raised on the sample batch: say so, quoting it, unless a rule already explained it."""
    if trace is None or y is None or trace.loss_error is None or any(f.severity == "error" for f in found):
        return []
    exc = trace.loss_error
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return [finding("AL010", f"the loss raises on the sample batch: {type(exc).__name__}: {text}",
                    "pass the output and target in the shapes and dtypes the loss takes (see the exception)",
                    "loss")]


def _opaque(model: nn.Module, trace: Trace | None) -> list[Finding]:
    """An info finding for what the tracer cannot see into (TorchScript modules)."""
    scripted = [name for name, m in model.named_modules() if isinstance(m, torch.jit.ScriptModule)]
    if scripted:
        # the outermost scripted modules only: "" (the model itself) contains every other one
        outer = [n for n in scripted if not any(o == "" or n.startswith(o + ".") for o in scripted if o != n)]
        what = ("the model is a TorchScript module" if outer == [""] else
                f"TorchScript submodule{'s' * (len(outer) > 1)} {', '.join(outer[:3])}")
        return [finding("AL000", f"{what}: its operations run as compiled code and were not analysed",
                        "check the eager (un-scripted) model to cover its layers", outer[0])]
    if trace is not None and trace.output_tensor is not None and not trace.ops:
        return [finding("AL000", "no operation of the forward pass could be traced (compiled or opaque code): "
                                 "the model's layers were not analysed",
                        "check the eager model", "forward")]
    return []


def _trace(model: nn.Module, x: Any) -> Trace | None:
    if x is None:
        return trace_model(model)
    try:
        return trace_model(model, x, measure=True)
    except Exception as exc:  # the user's model rejects the user's batch: say so plainly
        raise problem(ShapeError, "inputs", "to be accepted by the model's forward",
                      f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                      "pass a sample batch of the shape the model takes") from exc
