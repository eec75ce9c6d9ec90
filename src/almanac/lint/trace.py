"""Trace a model's forward pass: every tensor operation, the module it ran in, and where its inputs came from.

A :class:`~torch.overrides.TorchFunctionMode` sees module layers and functional calls alike (``nn.Softmax`` and
``torch.softmax(x, 1)`` both record a ``softmax`` op); forward hooks name the module each op ran in and record an
almanac activation module as one op. Each op keeps the indices of the ops that produced its tensor inputs, so the
checker can walk back from the output ("the last operations") or forward to an op's consumers. Facts the dynamic
rules need (dead units, saturated pre-activations, NaN) are measured as each op runs, before any in-place op can
overwrite them.

>>> import torch
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
>>> trace = trace_model(model, torch.randn(5, 4))
>>> [op.kind for op in trace.ops], trace.ops[1].where, trace.ops[1].dim
(['linear', 'softmax'], '1', 1)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from almanac.lint.losses import LOSS_OPS

__all__ = ["AFFINE", "NEUTRAL", "RANGES", "Op", "Trace", "call_model", "dry_inputs", "first_tensor", "preserved",
           "trace_loss", "trace_model"]

#: Ops that keep the values of their first input (shape, dtype and regularisation ops): walked through.
NEUTRAL = frozenset({
    "view", "reshape", "flatten", "unflatten", "squeeze", "squeeze_", "unsqueeze", "unsqueeze_", "contiguous",
    "clone", "detach", "to", "float", "double", "half", "bfloat16", "type", "type_as", "permute", "transpose", "t",
    "__getitem__", "view_as", "reshape_as", "expand", "expand_as", "select", "narrow", "dropout", "dropout1d",
    "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "identity", "movedim", "cpu", "cuda",
    "chunk", "split", "unbind", "index_select", "gather", "masked_select", "take_along_dim", "flip", "roll",
})
#: Products and quotients: walked through when the other operand is a positive number (a temperature).
_SCALES = frozenset({"mul", "div", "__mul__", "__rmul__", "__truediv__", "true_divide", "divide", "multiply"})
#: Ops whose output is an unbounded affine map of their input: a model ending with one outputs raw scores.
AFFINE = frozenset({"linear", "conv", "matmul", "bilinear"})
#: Normalisation layers: unbounded output, but not a linear map of one sample (they break a linear stack).
NORMS = frozenset({"batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm"})
#: Ops whose output is a hard decision: no gradient flows through them.
DISCRETE = frozenset({"argmax", "argmin", "round", "sign", "floor", "ceil", "gt", "ge", "lt", "le", "eq",
                      "__gt__", "__ge__", "__lt__", "__le__", "__eq__", "heaviside"})

_KINDS = {
    "addmm": "linear", "mm": "matmul", "bmm": "matmul", "__matmul__": "matmul", "einsum": "matmul",
    "baddbmm": "matmul", "conv1d": "conv", "conv2d": "conv", "conv3d": "conv", "conv_transpose1d": "conv",
    "conv_transpose2d": "conv", "conv_transpose3d": "conv", "sigmoid_": "sigmoid", "tanh_": "tanh",
    "relu_": "relu", "exp_": "exp", "hardsigmoid": "hard_sigmoid", "hardtanh": "hard_tanh", "hardswish": "hard_swish",
    "logsigmoid": "log_sigmoid", "lstm": "rnn", "gru": "rnn", "rnn_tanh": "rnn", "rnn_relu": "rnn",
    "layer_norm": "layer_norm", "rms_norm": "rms_norm",
}

#: Output range of the activations (torch kinds and almanac names) the checker reasons about.
RANGES: dict[str, tuple[float, float]] = {
    "identity": (-math.inf, math.inf),
    "relu": (0.0, math.inf), "relu6": (0.0, 6.0), "softplus": (0.0, math.inf), "exp": (0.0, math.inf),
    "abs": (0.0, math.inf), "sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0),
    "softmin": (0.0, 1.0), "log_softmax": (-math.inf, 0.0), "log_sigmoid": (-math.inf, 0.0),
    "tanh": (-1.0, 1.0), "hard_tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "elu": (-1.0, math.inf),
    "celu": (-1.0, math.inf), "selu": (-1.7581, math.inf), "gelu": (-0.17, math.inf), "silu": (-0.279, math.inf),
    "mish": (-0.309, math.inf), "hard_swish": (-0.375, math.inf), "leaky_relu": (-math.inf, math.inf),
    "prelu": (-math.inf, math.inf), "rnn": (-1.0, 1.0),
}


@dataclass
class Op:
    """One recorded operation of the forward pass.

    ``parents`` holds, for each tensor input in argument order, the index of the op that produced it
    (``-1`` for the model's input, ``None`` for parameters and constants). ``facts`` holds what the dynamic rules
    measured on this op's values: ``nan``, ``inf``, ``dead_fraction`` (ReLU), ``saturated_fraction`` (sigmoid/tanh).
    """

    index: int
    kind: str
    where: str
    parents: tuple[int | None, ...]
    in_shape: tuple[int, ...] | None
    out_shape: tuple[int, ...] | None
    dim: int | None = None
    module: nn.Module | None = None
    range: tuple[float, float] | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    #: for a PyTorch loss function: the tensor it scores, its target and its other (non-tensor) arguments
    loss_call: tuple[Tensor, Tensor | None, dict[str, Any]] | None = None

    @property
    def parent(self) -> int | None:
        """The producer of the first tensor input."""
        return self.parents[0] if self.parents else None


@dataclass
class Trace:
    """The ops of one forward pass (and of the loss call, from ``loss_start`` on), the index of the op that produced
    the output, and the batch size used. ``output_value`` is what the model returned (a tensor, tuple or dict)."""

    ops: list[Op]
    output: int | None
    batch: int
    output_value: Any = None
    producers: dict[int, tuple[Tensor, int]] = field(default_factory=dict, repr=False)
    loss_start: int | None = None
    loss_value: Any = None
    loss_error: BaseException | None = None

    @property
    def output_tensor(self) -> Tensor | None:
        """The model's output, or its first floating tensor (``logits`` first) for a tuple or dict output."""
        return first_tensor(self.output_value)

    def source(self, tensor: Tensor) -> int | None:
        """The index of the op that produced ``tensor`` (-1 the model's input, -2 the loss's target)."""
        entry = self.producers.get(id(tensor))
        return entry[1] if entry is not None and entry[0] is tensor else None

    @property
    def loss_ops(self) -> list[Op]:
        """The PyTorch loss functions called by the loss, in order."""
        start = self.loss_start if self.loss_start is not None else len(self.ops)
        return [op for op in self.ops[start:] if op.loss_call is not None]

    def producer(self, index: int | None) -> Op | None:
        """The first op at or before ``index`` (walking back through :data:`NEUTRAL` ops and products with a
        positive number) that changes values."""
        seen = 0
        while index is not None and index >= 0 and seen < len(self.ops):
            op = self.ops[index]
            if op.kind not in NEUTRAL and not op.facts.get("positive_scale"):
                return op
            index, seen = op.parent, seen + 1
        return None

    def tail(self, limit: int = 3, start: int | None = None) -> list[Op]:
        """The last value-changing ops on the path to ``start`` (default the output), last first, stopping after an
        affine layer."""
        chain: list[Op] = []
        op = self.producer(self.output if start is None else start)
        while op is not None and len(chain) < limit:
            chain.append(op)
            if op.kind in AFFINE:
                break
            op = self.producer(op.parent)
        return chain

    def on_output_path(self) -> set[int]:
        """Indices of the ops the output depends on through first inputs (the main path)."""
        path: set[int] = set()
        index = self.output
        while index is not None and index >= 0 and index not in path:
            path.add(index)
            index = self.ops[index].parent
        return path

    def consumers(self, index: int) -> Iterator[Op]:
        """The ops whose first input is ``index``'s output, walking forward through :data:`NEUTRAL` ops."""
        frontier = [index]
        while frontier:
            current = frontier.pop()
            for op in self.ops[current + 1:]:
                if op.parent == current:
                    if op.kind in NEUTRAL:
                        frontier.append(op.index)
                    else:
                        yield op


def first_tensor(value: Any) -> Tensor | None:
    """``value`` itself, or the first floating tensor of a tuple, list or dict (its ``"logits"`` entry first)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, dict):
        items = [value["logits"]] if isinstance(value.get("logits"), Tensor) else []
        items += list(value.values())
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        return None
    tensors = [t for t in items if isinstance(t, Tensor)]
    return next((t for t in tensors if t.is_floating_point()), tensors[0] if tensors else None)


def call_model(model: nn.Module, inputs: Any) -> Any:
    """``model(inputs)``, ``model(*inputs)`` for a tuple or ``model(**inputs)`` for a dict."""
    if isinstance(inputs, tuple):
        return model(*inputs)
    if isinstance(inputs, dict):
        return model(**inputs)
    return model(inputs)


def _kind(func: Any) -> str:
    name = getattr(func, "__name__", "") or ""
    return _KINDS.get(name, name)


def _tensors(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _softmax_dim(kind: str, args: tuple[Any, ...], kwargs: dict[str, Any], ndim: int) -> int | None:
    dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
    if dim is None:  # legacy implicit dim of F.softmax(x) / nn.Softmax(): 0 for 0-, 1- and 3-d inputs, else 1
        dim = 0 if ndim in (0, 1, 3) else 1
    if not isinstance(dim, int):
        return None
    return dim % ndim if ndim else 0


def _unit_dim(parent: Op | None, ndim: int) -> int:
    """The dimension that indexes units: channels after a convolution, features (last dim) otherwise."""
    return 1 if parent is not None and parent.kind == "conv" else ndim - 1


def _is_almanac_activation(module: nn.Module) -> bool:
    return type(module).__module__.startswith("almanac.activations") and isinstance(getattr(module, "name", None),
                                                                                     str)


class _Recorder(TorchFunctionMode):
    """Records ops while active; module hooks keep ``stack`` (module paths) and ``quiet`` (inside an atomic op)."""

    def __init__(self, measure: bool):
        super().__init__()
        self.measure = measure
        self.ops: list[Op] = []
        self.producers: dict[int, tuple[Tensor, int]] = {}
        self.stack: list[tuple[str, nn.Module]] = []
        self.quiet = 0
        self.where = ""  # the place of ops outside any module ("loss" while the loss runs)

    # -- bookkeeping --------------------------------------------------------------------------------------
    def source(self, tensor: Tensor) -> int | None:
        entry = self.producers.get(id(tensor))
        return entry[1] if entry is not None and entry[0] is tensor else None

    def mark(self, value: Any, index: int) -> None:
        for tensor in _tensors(value):
            self.producers[id(tensor)] = (tensor, index)

    def record(self, kind: str, inputs: list[Tensor], output: Any, *, dim: int | None = None,
               module: nn.Module | None = None, value_range: tuple[float, float] | None = None) -> Op:
        first_out = next(_tensors(output), None)
        where, leaf = self.stack[-1] if self.stack else (self.where, None)
        op = Op(
            index=len(self.ops), kind=kind, where=where, parents=tuple(self.source(t) for t in inputs),
            in_shape=tuple(inputs[0].shape) if inputs else None,
            out_shape=tuple(first_out.shape) if first_out is not None else None,
            dim=dim, module=module if module is not None else leaf,
            range=value_range if value_range is not None else RANGES.get(kind),
        )
        if self.measure and first_out is not None:
            self.quiet += 1  # hooks run inside the mode: the measurements must not be recorded as ops
            try:
                self.measure_op(op, inputs, first_out)
            finally:
                self.quiet -= 1
        self.ops.append(op)
        self.mark(output, op.index)
        return op

    def measure_op(self, op: Op, inputs: list[Tensor], out: Tensor) -> None:
        with torch.no_grad():
            if out.is_floating_point():
                op.facts["nan"] = bool(torch.isnan(out).any())
                op.facts["inf"] = bool(torch.isinf(out).any())
            if op.kind == "relu" and out.ndim >= 2 and out.shape[0] > 1:
                unit = _unit_dim(self.ops[op.parent] if op.parent is not None and op.parent >= 0 else None, out.ndim)
                rows = (out > 0).movedim(unit, -1).reshape(-1, out.shape[unit])
                active = rows.any(dim=0)
                op.facts["dead_fraction"] = 1.0 - float(active.float().mean())
                op.facts["rows"] = int(rows.shape[0])
                op.facts["units"] = int(out.shape[unit])

    # -- the mode -----------------------------------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        kind = _kind(func)
        inputs = [t for t in _tensors(list(args) + list(kwargs.values()))]
        pre = None
        if self.measure and not self.quiet and kind in ("sigmoid", "tanh") and inputs:
            with torch.no_grad():
                x = inputs[0]
                pre = float((x.abs() > 5).float().mean()) if x.is_floating_point() and x.numel() else None
        try:
            output = func(*args, **kwargs)
        except Exception:  # a loss that rejects its input: what reached it is still a site to judge
            if kind in LOSS_OPS and not self.quiet and isinstance(args[0] if args else None, Tensor):
                self.record_loss(self.record(kind, inputs, None), args, kwargs)
            raise
        if self.quiet or not inputs or next(_tensors(output), None) is None or kind == "__get__":
            return output
        if kind in NEUTRAL and any(t is output for t in inputs):  # an in-place reshape keeps its producer
            return output
        dim = _softmax_dim(kind, args, kwargs, inputs[0].ndim) if kind in ("softmax", "log_softmax",
                                                                           "softmin") else None
        op = self.record(kind, inputs, output, dim=dim)
        if pre is not None:
            op.facts["saturated_fraction"] = pre
        if kind in _SCALES and len(inputs) == 1 and len(args) == 2 and isinstance(args[1], (int, float)):
            op.facts["positive_scale"] = args[1] > 0 and not isinstance(args[1], bool)
        if kind in LOSS_OPS and isinstance(args[0] if args else None, Tensor):
            self.record_loss(op, args, kwargs)
            value = next(_tensors(output))
            op.facts["loss_value"] = value.detach()
        return output

    @staticmethod
    def record_loss(op: Op, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        target = args[1] if len(args) > 1 else kwargs.get("target")
        options = {k: v for k, v in kwargs.items() if not isinstance(v, Tensor)}
        op.loss_call = (args[0], target if isinstance(target, Tensor) else None, options)


def _atomic_kind(module: nn.Module) -> tuple[str, tuple[float, float] | None, int | None] | None:
    """An almanac activation module is one op named after its activation, with its spec's output range."""
    if not _is_almanac_activation(module):
        return None
    name: str = module.name  # type: ignore[assignment]
    from almanac import activations

    value_range = tuple(activations.spec(name).output_range) if name in activations.REGISTRY else None
    dim = getattr(module, "params", {}).get("dim", -1) if name in ("softmax", "log_softmax") else None
    return name, value_range, dim  # type: ignore[return-value]


@contextmanager
def _hooks(model: nn.Module, recorder: _Recorder) -> Iterator[None]:
    handles = []
    for path, module in model.named_modules():
        if isinstance(module, torch.jit.ScriptModule):  # compiled code takes no hooks; its ops are still seen
            continue
        atomic = _atomic_kind(module)

        def pre(mod: nn.Module, args: Any, path: str = path, atomic: Any = atomic) -> None:
            if atomic is not None and not recorder.quiet:
                recorder.stack.append((path, mod))
                recorder.quiet += 1
            elif atomic is None:
                recorder.stack.append((path, mod))

        def post(mod: nn.Module, args: Any, output: Any, path: str = path, atomic: Any = atomic) -> None:
            if atomic is not None and recorder.stack and recorder.stack[-1][1] is mod and recorder.quiet:
                recorder.quiet -= 1
                if not recorder.quiet:
                    kind, value_range, dim = atomic
                    inputs = list(_tensors(args))
                    if inputs and dim is not None:
                        dim %= max(inputs[0].ndim, 1)
                    op = recorder.record(kind, inputs, output, dim=dim, module=mod, value_range=value_range)
                    if recorder.measure and kind in ("sigmoid", "tanh") and inputs and inputs[0].is_floating_point():
                        recorder.quiet += 1
                        with torch.no_grad():
                            op.facts["saturated_fraction"] = float((inputs[0].abs() > 5).float().mean())
                        recorder.quiet -= 1
                recorder.stack.pop()
            elif atomic is None and recorder.stack and recorder.stack[-1][1] is mod:
                recorder.stack.pop()

        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def preserved(model: nn.Module) -> Iterator[None]:
    """Run a block on ``model`` and put back its parameters, buffers, gradients, modes and the RNG state."""
    slots = [(m, n, t) for m in model.modules() for table in (m._parameters, m._buffers)
             for n, t in table.items() if t is not None]  # buffers include the non-persistent ones
    values = [t.detach().clone() for _, _, t in slots]
    grads = {n: (p.grad.detach().clone() if p.grad is not None else None) for n, p in model.named_parameters()}
    modes = {n: m.training for n, m in model.named_modules()}
    cuda = sorted({t.device.index or 0 for _, _, t in slots if t.is_cuda})
    with torch.random.fork_rng(devices=cuda):
        try:
            yield
        finally:
            with torch.no_grad():
                for (module, name, tensor), value in zip(slots, values):
                    tensor.copy_(value)
                    table = module._parameters if name in module._parameters else module._buffers
                    table[name] = tensor  # a forward that reassigned the attribute gets the original back
            for name, param in model.named_parameters():
                param.grad = grads.get(name)
            for name, module in model.named_modules():
                module.training = modes.get(name, module.training)


_FIRST_LAYERS = (nn.Linear, nn.Bilinear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Embedding, nn.RNNBase)


def _candidates(module: nn.Module, batch: int, generator: torch.Generator, dtype: torch.dtype) -> Iterator[Tensor]:
    if isinstance(module, nn.Linear):
        yield torch.randn(batch, module.in_features, generator=generator, dtype=dtype)
    elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        spatial = module.weight.ndim - 2
        for size in (32, 28, 64, 16, 8, 224, 100, 128):
            yield torch.randn(batch, module.in_channels, *([size] * spatial), generator=generator, dtype=dtype)
    elif isinstance(module, nn.Embedding):
        yield torch.randint(0, module.num_embeddings, (batch, 5), generator=generator)
    elif isinstance(module, nn.RNNBase):
        shape = (batch, 5, module.input_size) if module.batch_first else (5, batch, module.input_size)
        yield torch.randn(*shape, generator=generator, dtype=dtype)


def dry_inputs(model: nn.Module, batch: int) -> Iterator[Tensor]:
    """Candidate random inputs whose size is read from the model's first layer (several spatial sizes for convs),
    in that layer's floating dtype and on its device. A first layer of another kind (``nn.Bilinear``) gives none."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if not isinstance(module, _FIRST_LAYERS):
            continue
        weight = next(module.parameters(), None)
        dtype = weight.dtype if weight is not None and weight.is_floating_point() else torch.float32
        for x in _candidates(module, batch, generator, dtype):
            yield x if weight is None else x.to(weight.device)
        return


def trace_model(model: nn.Module, inputs: Any = None, *, batch: int = 7, measure: bool = False) -> Trace | None:
    """Trace one forward pass on ``inputs`` (a tensor, a tuple of positional or a dict of keyword arguments; or on a
    random input read from the first layer).

    Returns None when no input fits. The caller restores the model (see :func:`preserved`); ``measure`` records
    the dynamic facts. The output is kept in ``Trace.output_value`` (with its graph, for a backward pass).
    """
    candidates = [inputs] if inputs is not None else list(dry_inputs(model, batch))
    for x in candidates:
        recorder = _Recorder(measure)
        recorder.mark(x, -1)
        try:
            with _hooks(model, recorder), recorder, warnings.catch_warnings():
                if inputs is None:  # random inputs of a guessed shape: the model's complaints are not the user's
                    warnings.simplefilter("ignore")
                output = call_model(model, x)
        except Exception:  # a candidate input of the wrong size: try the next one
            if inputs is not None:
                raise
            continue
        out = first_tensor(output)
        index = recorder.source(out) if out is not None else None
        if out is not None and index is None and any(out is t for t in _tensors(x)):
            index = -1
        first = next(_tensors(x), None)
        return Trace(recorder.ops, index, int(first.shape[0]) if first is not None and first.ndim else 1,
                     output, recorder.producers)
    return None


def trace_loss(trace: Trace, fn: Any, output: Any, target: Any) -> Trace:
    """``trace`` extended with the ops of ``fn(output, target)`` (the target's index is -2): the loss's value, or the
    exception it raised, and the PyTorch loss functions it called with what reached them."""
    recorder = _Recorder(False)
    recorder.ops = list(trace.ops)
    recorder.producers = dict(trace.producers)
    recorder.where = "loss"
    recorder.mark(target, -2)
    value, error = None, None
    try:
        with warnings.catch_warnings(), recorder:
            warnings.simplefilter("ignore")
            value = fn(output, target)
    except Exception as exc:  # the loss rejects the batch: a finding, not a crash
        error = exc
    return Trace(recorder.ops, trace.output, trace.batch, trace.output_value, recorder.producers, len(trace.ops),
                 value, error)
