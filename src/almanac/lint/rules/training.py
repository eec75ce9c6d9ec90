"""Rules on one forward and backward pass of the sample batch (AL013–AL016)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from almanac.lint.context import Context, describe
from almanac.lint.report import Finding
from almanac.lint.rules._base import finding
from almanac.lint.trace import DISCRETE

__all__ = ["TRAINING_RULES"]


def _finite(value: torch.Tensor | None) -> bool:
    return value is None or not value.is_floating_point() or bool(torch.isfinite(value).all())


def no_gradient(ctx: Context) -> Iterator[Finding]:
    """AL013: the loss has no gradient with respect to the parameters, or all of it is exactly zero."""
    if ctx.loss_value is None or not ctx.grads or not _finite(ctx.loss_value):
        return
    reached = [g for g in ctx.grads.values() if g is not None]
    if reached and any(bool((g != 0).any()) for g in reached):
        return
    cut = None
    if ctx.trace is not None:
        path = ctx.trace.on_output_path()
        cut = next((op for op in ctx.trace.ops if op.kind in DISCRETE and op.index in path), None)
    output = ctx.trace.output_tensor if ctx.trace is not None else None
    where = cut.where if cut is not None else ("loss" if output is not None and output.requires_grad else "forward")
    how = (f"{describe(cut)} in the forward pass" if cut is not None
           else "the loss path" if where == "loss" else "the forward pass")
    state = "no gradient" if not reached else "gradients that are exactly zero"
    constant = next((op for op in (ctx.trace.ops if ctx.trace is not None else ())
                     if op.kind in ("softmax", "log_softmax") and op.dim is not None and op.in_shape
                     and op.in_shape[op.dim] == 1), None)
    if cut is None and constant is not None:
        yield finding("AL013", f"the loss gives the parameters {state}: {describe(constant)} over a dimension of "
                               "size 1 is constant, so nothing flows back",
                      "for one output unit use a sigmoid (BCEWithLogitsLoss on the raw score), or output one unit "
                      "per class", constant.where)
        return
    yield finding("AL013", f"the loss gives the parameters {state}: {how} is not differentiable "
                           "(argmax, round, a threshold or detach)",
                  "compute the loss on the raw scores or probabilities, not on hard labels", where)


_MIN_ROWS = 8


def dead_relus(ctx: Context) -> Iterator[Finding]:
    """AL014: ReLU layers with at least 70% of their units inactive on the whole sample batch (of 8 rows or more:
    fewer cannot tell a dead unit from chance)."""
    if ctx.trace is None or not ctx.dynamic:
        return
    for op in ctx.trace.ops:
        dead = op.facts.get("dead_fraction")
        # a unit active on half the samples is silent on all of n rows with chance 0.5^n: judge from 8 rows on
        if dead is not None and dead >= 0.7 and op.facts.get("rows", 0) >= _MIN_ROWS:
            units = op.facts.get("units", 0)
            yield finding("AL014", f"{dead:.0%} of the {units} units of {describe(op)} output 0 on every one of "
                                   f"the {op.facts['rows']} sample rows: they get no gradient and stop learning",
                          "use LeakyReLU/GELU, lower the learning rate, check the initialisation and bias, or "
                          "normalise the inputs", op.where)


def saturation(ctx: Context) -> Iterator[Finding]:
    """AL015: most sigmoid/tanh pre-activations beyond ±5, or a first-layer gradient 1000× smaller than the last."""
    if ctx.trace is None or not ctx.dynamic:
        return
    head = ctx.head.op if ctx.head is not None else None
    for op in ctx.trace.ops:
        saturated = op.facts.get("saturated_fraction")
        if saturated is not None and saturated > 0.5 and op is not head:  # a confident output is no fault
            yield finding("AL015", f"{saturated:.0%} of the pre-activations of {describe(op)} are beyond ±5: the "
                                   "unit is saturated and its gradient is near 0",
                          "normalise the inputs, use a smaller initialisation, or add normalisation before it",
                          op.where)
    ratio = _first_last_ratio(ctx)
    if ratio is not None and ratio[0] < 1e-3:
        yield finding("AL015", f"the first layer's gradient norm is {ratio[0]:.1e} of the last layer's: "
                               "gradients vanish on the way back",
                      "use ReLU/GELU hidden activations, normalisation layers or residual connections", ratio[1])


def _first_last_ratio(ctx: Context) -> tuple[float, str] | None:
    if ctx.trace is None or not ctx.grads:
        return None
    by_id = {id(p): name for name, p in ctx.model.named_parameters()}
    layers = []
    for op in ctx.trace.ops:
        weight = getattr(op.module, "weight", None)
        if (op.kind in ("linear", "conv") and isinstance(weight, torch.Tensor) and id(weight) in by_id
                and (not layers or layers[-1][1] is not weight)):
            layers.append((op.where, weight))
    if len(layers) < 3:
        return None
    first, last = ctx.grads.get(by_id[id(layers[0][1])]), ctx.grads.get(by_id[id(layers[-1][1])])
    if first is None or last is None:
        return None
    last_norm = float(last.norm())
    if last_norm == 0.0 or not _finite(last):
        return None
    return float(first.norm()) / last_norm, layers[0][0]


def non_finite(ctx: Context) -> Iterator[Finding]:
    """AL016: NaN or inf in the inputs, the forward pass, the loss or the gradients."""
    if not ctx.dynamic:
        return
    if ctx.inputs is not None and not _finite(ctx.inputs):
        yield finding("AL016", "the sample inputs hold NaN or inf", "impute or drop those values before training",
                      "data")
        return
    if ctx.target is not None and not _finite(ctx.target):
        yield finding("AL016", "the sample targets hold NaN or inf", "impute or drop those rows", "data")
        return
    if ctx.trace is not None:
        # NaN anywhere is a bug; inf only when it reaches the output (-inf is the usual attention mask)
        output_bad = not _finite(ctx.trace.output_tensor)
        for op in ctx.trace.ops:
            if op.facts.get("nan") or (output_bad and op.facts.get("inf")):
                yield finding("AL016", f"{describe(op)} produces NaN or inf on the sample batch",
                              "guard it: clamp before log/sqrt/division, or use a numerically stable form "
                              "(log_softmax, logsigmoid, BCEWithLogitsLoss)", op.where)
                return
    if ctx.loss_value is not None and not _finite(ctx.loss_value):
        yield finding("AL016", "the loss is NaN or inf on the sample batch",
                      "use a numerically stable loss (on logits), or clamp probabilities away from 0 and 1", "loss")
        return
    bad = [name for name, g in ctx.grads.items() if not _finite(g)]
    if bad:
        yield finding("AL016", f"the gradients of {', '.join(bad[:3])} hold NaN or inf",
                      "avoid sqrt/log/division at 0 on the loss path (add an epsilon), or clip gradients", "loss")


TRAINING_RULES = (no_gradient, dead_relus, saturation, non_finite)
