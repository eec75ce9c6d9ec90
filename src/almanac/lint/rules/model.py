"""Static rules: the model's last operations against the loss, and its layer structure (AL001–AL004, AL006,
AL017, AL019, AL020)."""

from __future__ import annotations

from collections.abc import Iterator

from torch import nn

from almanac.lint.context import Context, describe
from almanac.lint.report import Finding
from almanac.lint.rules._base import finding
from almanac.lint.trace import AFFINE, NEUTRAL, NORMS, Op, Trace

__all__ = ["MODEL_RULES"]

_SOFTMAXES = ("softmax", "log_softmax", "softmin")
_STACKED = ("linear", "conv")


def double_softmax(ctx: Context) -> Iterator[Finding]:
    """AL001: (log-)softmax output into a loss that applies (log-)softmax itself."""
    head, loss = ctx.head, ctx.loss
    if head is None or loss is None or head.kind not in ("softmax", "log_softmax") or loss.applies != "softmax":
        return
    what = describe(head.op)
    yield finding("AL001", f"double softmax: the output goes through {what} and {loss.name} applies log-softmax "
                           "again", f"remove the final {what}: {loss.name} expects logits", head.op.where)


def double_sigmoid(ctx: Context) -> Iterator[Finding]:
    """AL002: sigmoid output into a loss that applies sigmoid itself."""
    head, loss = ctx.head, ctx.loss
    if head is None or loss is None or head.kind not in ("sigmoid", "hard_sigmoid") or loss.applies != "sigmoid":
        return
    what = describe(head.op)
    yield finding("AL002", f"double sigmoid: the output goes through {what} and {loss.name} applies sigmoid again",
                  f"remove the final {what}: {loss.name} expects logits", head.op.where)


_PRODUCTS = ("mul", "__mul__", "__rmul__", "multiply", "mul_")
_QUOTIENTS = ("div", "__truediv__", "__rtruediv__", "true_divide", "divide", "div_")


def _from_target(trace: Trace, index: int | None) -> bool:
    """The tensor at ``index`` is the loss's target (-2), through reshapes and dtype casts."""
    seen = 0
    while index is not None and index >= 0 and seen < len(trace.ops) and trace.ops[index].kind in NEUTRAL:
        index, seen = trace.ops[index].parent, seen + 1
    return index == -2


def _overlap_on_scores(ctx: Context) -> Op | None:
    """A Dice/IoU-style overlap written in the loss on raw scores: ``scores * target`` with 0/1 targets, later
    divided (``2·Σ(p·y) / (Σp + Σy)``). Returns the layer whose raw scores enter it."""
    trace, facts = ctx.trace, ctx.target_facts
    if trace is None or trace.loss_start is None or facts is None or not facts.binary01:
        return None
    ops = trace.ops[trace.loss_start:]
    for op in ops:
        if op.kind not in _PRODUCTS or len(op.parents) != 2 or not any(_from_target(trace, p) for p in op.parents):
            continue
        other = next(p for p in op.parents if not _from_target(trace, p))
        chain = trace.tail(start=other) if other is not None else []
        if chain and (chain[0].kind in AFFINE or chain[0].kind in NORMS) and chain[0].where != "loss" and any(
                later.kind in _QUOTIENTS and later.index > op.index for later in ops):
            return chain[0]
    return None


def scores_into_probabilities(ctx: Context) -> Iterator[Finding]:
    """AL003: scores that are not probabilities (or log-probabilities) into a loss that expects them, or a Dice /
    IoU overlap computed in the loss on raw scores."""
    head, loss = ctx.head, ctx.loss
    if loss is None or not loss.known:
        layer = _overlap_on_scores(ctx)
        if layer is not None:
            yield finding("AL003", "the loss computes an overlap (Dice / IoU: scores × target, then a ratio) on the "
                                   "raw scores of the last layer, which are not probabilities",
                          "apply torch.sigmoid (or softmax over the classes) to the scores before the Dice/IoU "
                          "terms", layer.where)
            return
    if head is None or loss is None or head.kind == "labels":
        return
    where = head.op.where
    if loss.expects == "probabilities" and not head.in_unit_interval:
        what = "unbounded scores" if head.kind == "identity" else f"{head.kind} outputs (not in [0, 1])"
        fix = ("BCEWithLogitsLoss on the raw scores" if loss.torch_native else "from_logits=True")
        yield finding("AL003", f"{what} go into {loss.name}, which expects probabilities in [0, 1]",
                      f"use {fix}, or end the model with a sigmoid", where)
    elif loss.expects == "log_probabilities" and head.kind not in ("log_softmax", "log_sigmoid"):
        what = "unbounded scores" if head.kind == "identity" else f"{head.kind} outputs"
        if head.kind in ("softmax", "sigmoid"):
            fix = (f"take log_{head.kind} instead of {head.kind} ({describe(head.op)} → "
                   f"{'F.log_softmax' if head.kind == 'softmax' else 'F.logsigmoid'}), or use "
                   f"{'CrossEntropyLoss' if head.kind == 'softmax' else 'BCEWithLogitsLoss'} on the raw scores")
        else:
            fix = "end the model with nn.LogSoftmax(dim=1) (log_softmax), or use CrossEntropyLoss on the raw scores"
        yield finding("AL003", f"{what} go into {loss.name}, which expects log-probabilities", fix, where)


def softmax_of_one(ctx: Context) -> Iterator[Finding]:
    """AL004: softmax over a dimension of size 1 is constant."""
    if ctx.trace is None:
        return
    for op in ctx.trace.ops:
        if op.kind in _SOFTMAXES and op.dim is not None and op.in_shape and op.in_shape[op.dim] == 1:
            value = "0" if op.kind == "log_softmax" else "1"
            yield finding("AL004", f"{describe(op)} over dim={op.dim} of size 1: the output is always {value} and "
                                   "nothing is learned",
                          "for one output unit use a sigmoid (BCEWithLogitsLoss on logits), or output one unit "
                          "per class", op.where)


def _is_depthwise(op: Op) -> bool:
    return isinstance(op.module, nn.modules.conv._ConvNd) and op.module.groups > 1


def _width(shape: tuple[int, ...] | None, op: Op) -> int | None:
    if not shape:
        return None
    return shape[1] if op.kind == "conv" and len(shape) > 1 else shape[-1]


def _bottleneck(before: Op, op: Op) -> bool:
    """A narrower middle (``a → r → b`` with ``r < min(a, b)``) is a deliberate low-rank factorisation (an
    autoencoder's code, a LoRA-style adapter), not a forgotten activation."""
    a, r, b = _width(before.in_shape, before), _width(before.out_shape, before), _width(op.out_shape, op)
    return a is not None and r is not None and b is not None and r < min(a, b)


def stacked_linear(ctx: Context) -> Iterator[Finding]:
    """AL006: a linear/conv layer fed directly by another one (through reshapes and dropout only)."""
    if ctx.trace is None:
        return
    reported: set[int] = set()
    for op in ctx.trace.ops:
        if op.kind not in _STACKED:
            continue
        before = ctx.trace.producer(op.parent)
        if (before is None or before.kind not in _STACKED or _is_depthwise(before) or before.module is op.module
                or before.index in reported or _bottleneck(before, op)):
            continue
        reported.add(before.index)
        yield finding("AL006", f"layers `{before.where or 'forward'}` and `{op.where or 'forward'}` are stacked with "
                               "no non-linearity between them: they collapse into one linear map",
                      "add an activation (for example nn.ReLU()) between them, or merge them into one layer",
                      op.where)


def softmax_over_batch(ctx: Context) -> Iterator[Finding]:
    """AL017: softmax over dim 0 of a batched tensor mixes the samples of the batch."""
    trace = ctx.trace
    if trace is None or trace.batch < 2:
        return
    path = trace.on_output_path()
    for op in trace.ops:
        if op.kind not in _SOFTMAXES or op.dim != 0 or not op.in_shape or op.in_shape[0] != trace.batch:
            continue
        if op.index not in path and (len(op.in_shape) < 2 or trace.batch in op.in_shape[1:]):
            continue  # off the output path, dim 0 is the batch only when no other dimension has its size
        yield finding("AL017", f"{describe(op)} over dim=0, the batch dimension: each sample's output depends on "
                               "the rest of the batch",
                      "pass dim=1 (the class dimension), for example nn.Softmax(dim=1)", op.where)


def _hidden(trace: Trace, op: Op) -> bool:
    """Feeds further ops, none of them a product (``x * sigmoid(g)`` is a gate, not a hidden activation)."""
    consumers = [c.kind for c in trace.consumers(op.index)]
    return bool(consumers) and not any(k in ("mul", "__mul__", "__rmul__", "mul_") for k in consumers)


def _layer_key(ctx: Context, op: Op) -> int:
    """The layer that feeds ``op``: its module when it is a layer of its own, else the op."""
    before = ctx.trace.producer(op.parent) if ctx.trace is not None else None
    if before is None:
        return op.index
    module = before.module
    return id(module) if module is not None and module is not ctx.model and not list(module.children()) \
        else before.index


def deep_saturating_stack(ctx: Context) -> Iterator[Finding]:
    """AL019: at least 5 hidden layers with sigmoid/tanh activations."""
    if ctx.trace is None:
        return
    hidden = []
    for op in ctx.trace.ops:
        if op.kind not in ("sigmoid", "tanh"):
            continue
        before = ctx.trace.producer(op.parent)
        if before is not None and (before.kind in _STACKED or before.kind in NORMS) and _hidden(ctx.trace, op):
            hidden.append(op)
    layers = {_layer_key(ctx, op) for op in hidden}
    if len(layers) >= 5:  # distinct layers: an RNN cell unrolled over time is one layer
        kinds = sorted({op.kind for op in hidden})
        yield finding("AL019", f"{len(hidden)} hidden layers use {' / '.join(kinds)}: gradients shrink by up to "
                               "4× per sigmoid layer and vanish in deep stacks",
                      "use ReLU, GELU or SiLU for the hidden layers (keep sigmoid/tanh for gates and outputs)",
                      hidden[0].where)


_NON_NEGATIVE = ("relu", "relu6", "softplus", "abs", "exp")


def non_negative_logits(ctx: Context) -> Iterator[Finding]:
    """AL020: a non-negative last activation into a loss that expects logits (negative scores are lost), or a ReLU
    just before the final (log-)softmax or sigmoid."""
    head, loss = ctx.head, ctx.loss
    if head is not None and head.kind in ("softmax", "log_softmax", "sigmoid", "log_sigmoid"):
        position = next((i for i, op in enumerate(ctx.chain) if op is head.op), None)
        before = ctx.chain[position + 1] if position is not None and position + 1 < len(ctx.chain) else None
        if before is not None and before.kind in _NON_NEGATIVE:
            what = describe(before)
            yield finding("AL020", f"{what} comes just before the final {head.kind}: the scores it normalises are "
                                   "never negative, so low scores are lost and the output is squashed",
                          f"remove the {what} before the {head.kind}: feed it the last layer's raw scores",
                          before.where)
            return
    if head is None or loss is None or loss.expects != "logits" or not head.non_negative:
        return
    if (head.kind in ("softmax", "log_softmax") and loss.applies == "softmax") or (
            head.kind in ("sigmoid", "hard_sigmoid") and loss.applies == "sigmoid"):
        return  # AL001 / AL002
    what = describe(head.op)
    yield finding("AL020", f"the last layer ends with {what}, so its scores are never negative, but {loss.name} "
                           "expects logits (any real number)",
                  f"remove the final {what}: {loss.name} expects logits", head.op.where)


MODEL_RULES = (double_softmax, double_sigmoid, scores_into_probabilities, softmax_of_one, stacked_linear,
               softmax_over_batch, deep_saturating_stack, non_negative_logits)
