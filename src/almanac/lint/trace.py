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

__all__ = ["AFFINE", "NEUTRAL", "RANGES", "Op", "Trace", "dry_inputs", "preserved", "record_call", "trace_model"]

#: Ops that keep the values of their first input (shape, dtype and regularisation ops): walked through.
NEUTRAL = frozenset({
    "view", "reshape", "flatten", "unflatten", "squeeze", "squeeze_", "unsqueeze", "unsqueeze_", "contiguous",
    "clone", "detach", "to", "float", "double", "half", "bfloat16", "type", "type_as", "permute", "transpose", "t",
    "__getitem__", "view_as", "reshape_as", "expand", "expand_as", "select", "narrow", "dropout", "dropout1d",
    "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "identity", "movedim", "cpu", "cuda",
})
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

    @property
    def parent(self) -> int | None:
        """The producer of the first tensor input."""
        return self.parents[0] if self.parents else None


@dataclass
class Trace:
    """The ops of one forward pass, the index of the op that produced the output, and the batch size used."""

    ops: list[Op]
    output: int | None
    batch: int
    output_value: Tensor | None = None

    def producer(self, index: int | None) -> Op | None:
        """The first op at or before ``index`` (walking back through :data:`NEUTRAL` ops) that changes values."""
        seen = 0
        while index is not None and index >= 0 and seen < len(self.ops):
            op = self.ops[index]
            if op.kind not in NEUTRAL:
                return op
            index, seen = op.parent, seen + 1
        return None

    def tail(self, limit: int = 3) -> list[Op]:
        """The last value-changing ops on the output path, last first, stopping after an affine layer."""
        chain: list[Op] = []
        op = self.producer(self.output)
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


def _kind(func: Any) -> str:
    name = getattr(func, "__name__", "") or ""
    return _KINDS.get(name, name)


def _tensors(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
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
        where, leaf = self.stack[-1] if self.stack else ("", None)
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
                active = (out > 0).movedim(unit, -1).reshape(-1, out.shape[unit]).any(dim=0)
                op.facts["dead_fraction"] = 1.0 - float(active.float().mean())
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
        output = func(*args, **kwargs)
        if self.quiet or not inputs or next(_tensors(output), None) is None or kind.startswith("__get"):
            return output
        if kind in NEUTRAL and any(t is output for t in inputs):  # an in-place reshape keeps its producer
            return output
        dim = _softmax_dim(kind, args, kwargs, inputs[0].ndim) if kind in ("softmax", "log_softmax",
                                                                           "softmin") else None
        op = self.record(kind, inputs, output, dim=dim)
        if pre is not None:
            op.facts["saturated_fraction"] = pre
        return output


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


def trace_model(model: nn.Module, inputs: Tensor | None = None, *, batch: int = 7,
                measure: bool = False) -> Trace | None:
    """Trace one forward pass on ``inputs`` (or on a random input read from the first layer).

    Returns None when no input fits. The caller restores the model (see :func:`preserved`); ``measure`` records
    the dynamic facts. The output tensor is kept in ``Trace.output_value`` (with its graph, for a backward pass).
    """
    candidates = [inputs] if inputs is not None else list(dry_inputs(model, batch))
    for x in candidates:
        recorder = _Recorder(measure)
        recorder.mark(x, -1)
        try:
            with _hooks(model, recorder), recorder, warnings.catch_warnings():
                if inputs is None:  # random inputs of a guessed shape: the model's complaints are not the user's
                    warnings.simplefilter("ignore")
                output = model(x)
        except Exception:  # a candidate input of the wrong size: try the next one
            if inputs is not None:
                raise
            continue
        index = recorder.source(output) if isinstance(output, Tensor) else None
        if isinstance(output, Tensor) and index is None and output is x:
            index = -1
        return Trace(recorder.ops, index, int(x.shape[0]) if x.ndim else 1,
                     output if isinstance(output, Tensor) else None)
    return None


def record_call(fn: Any, output: Tensor, target: Tensor) -> list[Op] | None:
    """The ops of ``fn(output, target)`` with ``output`` as the input (index -1); None when the call fails."""
    recorder = _Recorder(False)
    recorder.mark(output, -1)
    try:
        with warnings.catch_warnings(), recorder:
            warnings.simplefilter("ignore")
            fn(output, target)
    except Exception:  # the loss rejects this batch: the caller keeps the loss's kind unknown
        return None
    return recorder.ops
