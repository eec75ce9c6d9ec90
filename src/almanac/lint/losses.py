"""What a loss expects: classify a loss module, function or name into the facts the rules use.

PyTorch's losses are known by class or function; almanac's by name (``Loss.name``) and spec, with their bound
parameters (``from_logits``, ``task``). Anything else is a custom callable of unknown kind: rules that need the
loss's kind stay silent on it.

>>> from torch import Tensor, nn
>>> kind = classify_loss(nn.BCEWithLogitsLoss())
>>> kind.expects, kind.applies, kind.target
('logits', 'sigmoid', 'binary')
>>> classify_loss("huber").family
'regression'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch.nn.functional as F
from torch import nn

from almanac.errors import ConfigError, problem

__all__ = ["LOSS_OPS", "LossKind", "classify_loss", "kind_of_op"]


@dataclass(frozen=True)
class LossKind:
    """What a loss takes.

    ``expects``: "logits" | "probabilities" | "log_probabilities" | "values" | "critic_scores" | "unknown";
    ``applies``: the normalisation the loss applies to its input ("softmax", "sigmoid" or None);
    ``target``: "class_indices" | "binary" | "soft_labels" | "signs" | "real" | "count" | "mask" | "sequence" |
    "unknown";
    ``family``: "classification" | "regression" | "segmentation" | "adversarial" | "unknown".
    """

    name: str
    expects: str
    applies: str | None
    target: str
    family: str
    fn: Callable[..., Any] | None = None
    ignore_index: int | None = None
    torch_native: bool = False

    @property
    def known(self) -> bool:
        return self.expects != "unknown"

    @property
    def class_indices(self) -> bool:
        """True for losses whose target holds one class index per sample (cross-entropy, NLL, multi-margin)."""
        return self.target == "class_indices"

    @property
    def binary_targets(self) -> bool:
        """True for losses whose target holds one 0/1 (or soft) label per output unit (BCE and friends)."""
        return self.target == "binary"


# (expects, applies, target, family) of PyTorch's losses, by class and by function.
_CE = ("logits", "softmax", "class_indices", "classification")
_NLL = ("log_probabilities", None, "class_indices", "classification")
_BCE_LOGITS = ("logits", "sigmoid", "binary", "classification")
_BCE = ("probabilities", None, "binary", "classification")
_REG = ("values", None, "real", "regression")
_TORCH: dict[type, tuple[str, str | None, str, str]] = {
    nn.CrossEntropyLoss: _CE, nn.NLLLoss: _NLL, nn.BCEWithLogitsLoss: _BCE_LOGITS, nn.BCELoss: _BCE,
    nn.MultiLabelSoftMarginLoss: _BCE_LOGITS,
    nn.KLDivLoss: ("log_probabilities", None, "soft_labels", "classification"),
    nn.MultiMarginLoss: ("logits", None, "class_indices", "classification"),
    nn.SoftMarginLoss: ("logits", None, "signs", "classification"),
    nn.MSELoss: _REG, nn.L1Loss: _REG, nn.HuberLoss: _REG, nn.SmoothL1Loss: _REG,
    nn.PoissonNLLLoss: ("values", None, "count", "regression"),
    nn.CTCLoss: ("log_probabilities", None, "sequence", "classification"),
}
_TORCH_FUNCTIONS: dict[Callable[..., Any], tuple[str, str | None, str, str]] = {
    F.cross_entropy: _CE, F.nll_loss: _NLL, F.binary_cross_entropy_with_logits: _BCE_LOGITS,
    F.binary_cross_entropy: _BCE, F.multilabel_soft_margin_loss: _BCE_LOGITS,
    F.kl_div: ("log_probabilities", None, "soft_labels", "classification"),
    F.multi_margin_loss: ("logits", None, "class_indices", "classification"),
    F.soft_margin_loss: ("logits", None, "signs", "classification"),
    F.mse_loss: _REG, F.l1_loss: _REG, F.huber_loss: _REG, F.smooth_l1_loss: _REG,
    F.poisson_nll_loss: ("values", None, "count", "regression"),
    F.ctc_loss: ("log_probabilities", None, "sequence", "classification"),
}


def _almanac(name: str, params: Mapping[str, Any], fn: Callable[..., Any] | None) -> LossKind:
    from almanac import losses

    spec = losses.spec(name)
    merged = {**spec.params, **params}
    expects, target = spec.expects, spec.target
    task = merged.get("task")
    normalization = spec.normalization_for(merged)
    applies = normalization if normalization in ("softmax", "sigmoid") else None
    if expects == "logits" and merged.get("from_logits", True) is False:
        expects = "probabilities"
    if target == "multi_hot":
        target = "binary"
    if target == "binary" and task == "multiclass":
        target = "class_indices"
    if "regression" in spec.tasks:
        family = "regression"
        target = "count" if spec.normalization == "exp" else "real"
    elif "adversarial" in spec.tasks:
        family = "adversarial"
    elif target == "mask":
        family = "segmentation"
    else:
        family = "classification"
    ignore = merged.get("ignore_index")
    return LossKind(spec.name, expects, applies, target, family, fn, ignore if isinstance(ignore, int) else None)


def _torch_kind(loss: nn.Module) -> LossKind | None:
    for cls, facts in _TORCH.items():
        if isinstance(loss, cls):
            ignore = getattr(loss, "ignore_index", None)
            expects, applies, target, family = facts
            return LossKind(type(loss).__name__, expects, applies, target, family, loss,
                            ignore if isinstance(ignore, int) else None, torch_native=True)
    return None


def classify_loss(loss: Any) -> LossKind | None:
    """The :class:`LossKind` of ``loss``: a PyTorch loss module or function, an almanac loss (object, function or
    name), a PyTorch loss class name such as ``"CrossEntropyLoss"``, or any callable (kind "unknown").

    Returns None when ``loss`` is None; raises :class:`~almanac.errors.UnknownNameError` for an unknown name.
    """
    if loss is None:
        return None
    if isinstance(loss, type) and issubclass(loss, nn.Module):  # the class given for the object: build it
        loss = loss()
    if isinstance(loss, str):
        torch_class = getattr(nn, loss.strip(), None)
        if isinstance(torch_class, type) and issubclass(torch_class, nn.modules.loss._Loss):
            kind = _torch_kind(torch_class())
            if kind is not None:
                return kind
        from almanac import losses

        name = losses.REGISTRY.resolve(loss)
        return _almanac(name, {}, losses.get(name))
    if isinstance(loss, nn.Module):
        kind = _torch_kind(loss)
        if kind is not None:
            return kind
        name = getattr(loss, "name", None)
        if type(loss).__module__.startswith("almanac.losses") and isinstance(name, str):
            return _almanac(name, dict(getattr(loss, "params", {})), loss)
        return LossKind(type(loss).__name__, "unknown", None, "unknown", "unknown", loss)
    if callable(loss):
        for fn, (expects, applies, target, family) in _TORCH_FUNCTIONS.items():
            if loss is fn:
                return LossKind(f"F.{fn.__name__}", expects, applies, target, family, loss, -100, torch_native=True)
        if getattr(loss, "__module__", "").startswith("almanac.losses"):
            from almanac import losses

            name = getattr(loss, "__name__", "")
            if name in losses.names() and losses.REGISTRY.function(name) is loss:
                return _almanac(name, {}, loss)
        return LossKind(getattr(loss, "__name__", type(loss).__name__), "unknown", None, "unknown", "unknown", loss)
    raise problem(ConfigError, "loss", "to be a loss module, a loss function or a loss name",
                  type(loss).__name__, "pass nn.CrossEntropyLoss(), F.cross_entropy or 'cross_entropy'")


_BY_OP_NAME = {fn.__name__: facts for fn, facts in _TORCH_FUNCTIONS.items()}
#: The names of PyTorch's loss functions, as the tracer records them (``F.cross_entropy`` → "cross_entropy").
LOSS_OPS = frozenset(_BY_OP_NAME)


def kind_of_op(op_kind: str, options: Mapping[str, Any], name: str | None = None) -> LossKind:
    """The :class:`LossKind` of a call to the PyTorch loss function ``op_kind`` with keyword arguments ``options``.

    >>> kind_of_op("nll_loss", {"ignore_index": 0}).ignore_index, kind_of_op("kl_div", {}).expects
    (0, 'log_probabilities')
    """
    expects, applies, target, family = _BY_OP_NAME[op_kind]
    ignore = options.get("ignore_index", -100 if target == "class_indices" else None)
    return LossKind(name or f"F.{op_kind}", expects, applies, target, family, None,
                    ignore if isinstance(ignore, int) else None, torch_native=True)
