"""Input formatting for metrics: the first of the three stages format → update → compute.

:func:`format_classification` turns ``(preds, target)`` — tensors, NumPy arrays or (nested) lists — into a
:class:`Batch` of flat, validated tensors and the resolved task; :func:`format_regression` does the same for
real-valued targets. :func:`output_kind` and :func:`to_kind` give results the kind of their input.

Canonical forms of a :class:`Batch` (``n`` counts samples after extra dimensions are flattened and samples
equal to ``ignore_index`` are dropped)::

    task          needs="labels"            needs="probabilities" / "scores"   target
    binary        preds (n,) long {0, 1}    preds (n,) float                   (n,) long {0, 1}
    multiclass    preds (n,) long [0, C)    preds (n, C) float                 (n,) long [0, C)
    multilabel    preds (n, L) long {0, 1}  preds (n, L) float                 (n, L) long {0, 1}
    regression    preds (n,) or (n, D) float (no ``needs``)                    same shape, float

``needs="probabilities"`` applies sigmoid (binary, multilabel) or softmax over classes (multiclass) when
``from_logits=True``. ``needs="scores"`` does the same for multiclass but leaves binary and multilabel logits as
they are: a monotone map changes no ranking metric, and skipping it keeps large logits from saturating into ties.

Extra dimensions: binary preds and target of any equal shape are flattened; multiclass preds ``(N, C, *)`` with
target ``(N, *)`` (or labels ``(N, *)``) become ``(n, C)`` / ``(n,)``; multilabel ``(N, L, *)`` become ``(n, L)``.

Task inference when ``task=None`` (the first rule that applies):

1. ``num_labels`` given → multilabel.
2. ``preds`` has one more dimension than ``target`` → multiclass, ``C = preds.shape[1]`` (which must equal
   ``num_classes`` when given).
3. different shapes otherwise → :class:`ShapeError`.
4. ``num_classes`` given → multiclass.
5. 1-D float preds → binary (the target must hold {0, 1}; otherwise :class:`ConfigError` naming ``task=``).
6. 1-D integer labels → binary when every label is 0 or 1, else multiclass with ``C = max label + 1``.
7. 2-D ``(N, L)`` inputs with a {0, 1} target → multilabel, ``L = preds.shape[1]``.
8. anything else is ambiguous → :class:`ConfigError` naming ``task=`` (segmentation metrics pass
   ``spatial=True``: equal-shape maps are then binary masks, or multiclass label maps when labels exceed 1).

One rule per input, by dtype, never by values: a float ``target`` holds labels — whole numbers are read as labels
(scikit-learn's float-coded ``0.0 / 1.0 / 2.0``), fractions raise :class:`TargetError`; float ``preds`` are scores —
probabilities, thresholded by label metrics for binary / multilabel inputs (so float-coded ``0.0 / 1.0`` predictions
give the labels' result), or ``(N, C)`` class scores, arg-maxed whatever they are (probabilities or logits). Float
preds are never read as class labels: float-coded multiclass predictions (``2.0``) raise, and the error names the
fix (cast them to integers). Labels of any integer dtype are read as int64; boolean tensors count as 0/1 labels.
Binary and multilabel float preds outside [0, 1] raise :class:`DomainError` unless ``from_logits=True`` — the value
range is never used to guess logits. NaN or inf raise :class:`DomainError`,
mismatched shapes :class:`ShapeError`, labels out of range :class:`TargetError`, and an empty input (no element in
``preds`` or ``target``) raises :class:`ShapeError`. A batch whose samples are all ``ignore_index`` is not empty:
it updates nothing, and a metric that has seen no sample raises :class:`UndefinedMetricError` from ``compute``.

Streaming metrics pass the resolution of their first batch back in (``resolved=(task, num_classes)``), so every
later batch is read the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from almanac._checks import check_choice, check_number, to_tensor
from almanac.errors import AlmanacError, ConfigError, DomainError, ShapeError, TargetError, problem

__all__ = [
    "AVERAGES",
    "CLASSIFICATION_TASKS",
    "Batch",
    "check_classification_options",
    "check_finite_values",
    "format_classification",
    "format_regression",
    "output_kind",
    "read_inputs",
    "read_weights",
    "to_kind",
]

CLASSIFICATION_TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("micro", "macro", "weighted", "none", "samples")  # "samples": multilabel F1-like metrics only
NEEDS = ("labels", "probabilities", "scores")


@dataclass(frozen=True)
class Batch:
    """One formatted batch (see the module docstring for the canonical shapes).

    ``num_classes`` is 2 for binary, C for multiclass, L for multilabel and the number of outputs D for
    regression (1 for 1-D targets). ``mask`` is None, or for multilabel with ``ignore_index`` a bool ``(n, L)``
    tensor that is False on ignored entries (their label is stored as 0). ``scores`` says whether ``preds`` are
    floats (probabilities or scores) rather than labels. ``weight`` holds the ``sample_weight`` of each row of
    ``target`` (a sample's weight is repeated over its extra dimensions), or None.
    """

    preds: Tensor
    target: Tensor
    task: str
    num_classes: int
    scores: bool
    mask: Tensor | None = None
    weight: Tensor | None = None  # float64 (n,): one weight per (flattened, kept) sample, or None (all 1)

    @property
    def resolved(self) -> tuple[str, int]:
        return self.task, self.num_classes


# -- output kind --------------------------------------------------------------------------------------------------
def output_kind(preds: Any, target: Any) -> str:
    """The kind of result for these inputs: ``"numpy"`` unless either input is a tensor; then ``"tensor64"`` when
    ``preds`` is a float64 tensor, else ``"tensor"``."""
    if isinstance(preds, Tensor):
        return "tensor64" if preds.dtype == torch.float64 else "tensor"
    return "tensor" if isinstance(target, Tensor) else "numpy"


def to_kind(value: Any, kind: str) -> Any:
    """``value`` (a tensor, or a tuple / list / dict of them) in the output kind.

    Metrics compute in float64. ``"tensor"``: float tensors are cast to the default dtype (float32);
    ``"tensor64"``: they stay float64; ``"numpy"``: 0-d tensors become Python floats (ints for integer dtypes),
    others NumPy arrays. Integer tensors (counts) keep their dtype.
    """
    if isinstance(value, Tensor):
        if kind == "tensor64":
            return value
        if kind == "tensor":
            return value.to(torch.get_default_dtype()) if value.is_floating_point() else value
        value = value.detach().cpu()
        if value.ndim == 0:
            return value.item()
        return value.numpy()
    if isinstance(value, tuple):
        return tuple(to_kind(v, kind) for v in value)
    if isinstance(value, list):
        return [to_kind(v, kind) for v in value]
    if isinstance(value, dict):
        return {k: to_kind(v, kind) for k, v in value.items()}
    return value


# -- options ------------------------------------------------------------------------------------------------------
def check_classification_options(params: dict[str, Any]) -> None:
    """Validate the shared classification keywords present in ``params`` (ConfigError)."""
    if params.get("task") is not None:
        check_choice(params["task"], "task", (None, *CLASSIFICATION_TASKS))
    if params.get("num_classes") is not None:
        check_number(params["num_classes"], "num_classes", low=2, integer=True)
    if params.get("num_labels") is not None:
        check_number(params["num_labels"], "num_labels", low=1, integer=True)
    if "average" in params and params["average"] is not None:
        check_choice(params["average"], "average", (None, *AVERAGES))
    if "threshold" in params:
        check_number(params["threshold"], "threshold", low=0.0, high=1.0)
    if "from_logits" in params and not isinstance(params["from_logits"], bool):
        raise problem(ConfigError, "from_logits", "to be True or False", repr(params["from_logits"]),
                      "pass from_logits=True for logits, False for probabilities")
    if params.get("ignore_index") is not None:
        check_number(params["ignore_index"], "ignore_index", integer=True)
    if params.get("labels") is not None:
        labels = params["labels"]
        try:
            distinct = len(set(labels)) == len(labels) >= 2 and not isinstance(labels, (str, bytes))
        except TypeError:
            distinct = False
        if not distinct:
            raise problem(ConfigError, "labels", "to list at least 2 distinct (hashable) class labels", repr(labels),
                          "pass labels=['cat', 'dog', ...]: class i is labels[i]")
        if params.get("num_classes") not in (None, len(labels)) or params.get("num_labels") is not None:
            raise problem(ConfigError, "num_classes", f"to be unset (or {len(labels)}) with labels=",
                          str(params.get("num_classes") or params.get("num_labels")), "drop it: labels= sets it")
    if "zero_division" in params:
        zd = params["zero_division"]
        if isinstance(zd, bool) or not isinstance(zd, (int, float)) or not (math.isnan(zd) or 0.0 <= zd <= 1.0):
            raise problem(ConfigError, "zero_division", "to be a number in [0, 1] or nan", repr(zd),
                          "pass zero_division=0.0, 1.0, or float('nan') to leave such classes out of averages")
    if "top_k" in params:
        check_number(params["top_k"], "top_k", low=1, integer=True)
    task, nc, nl = params.get("task"), params.get("num_classes"), params.get("num_labels")
    if task == "binary" and (nc not in (None, 2) or nl is not None):
        raise problem(ConfigError, "num_classes", "to be unset (or 2) for task='binary'", f"num_classes={nc}, "
                      f"num_labels={nl}", "drop it, or pass task='multiclass' / 'multilabel'")
    if task == "multiclass" and nl is not None:
        raise problem(ConfigError, "num_labels", "to be unset for task='multiclass'", f"num_labels={nl}",
                      "pass num_classes= instead, or task='multilabel'")
    if task == "multilabel" and nc is not None:
        raise problem(ConfigError, "num_classes", "to be unset for task='multilabel'", f"num_classes={nc}",
                      "pass num_labels= instead, or task='multiclass'")
    if task is None and nc is not None and nl is not None:
        raise problem(ConfigError, "num_classes", "and `num_labels` not to be both given", f"{nc} and {nl}",
                      "pass task='multiclass' with num_classes, or task='multilabel' with num_labels")


# -- helpers ------------------------------------------------------------------------------------------------------
def _minmax(x: Tensor) -> tuple[float, float]:
    lo, hi = torch.aminmax(x)
    return lo.item(), hi.item()


def _tensor(value: Any, name: str) -> Tensor:
    try:
        x = to_tensor(value, name)
    except AlmanacError:
        raise
    except ValueError:  # NumPy: a ragged nested list ("inhomogeneous shape")
        raise problem(ShapeError, name, "to be a rectangular array (every row of a nested list the same length)",
                      "a ragged nested list", "pad or trim the rows, or pass one batch per call") from None
    if x.is_complex():
        raise problem(TargetError, name, "to hold real numbers", f"dtype {x.dtype}",
                      f"pass {name}.real or {name}.abs() — almanac never drops an imaginary part")
    return x


def read_inputs(preds: Any, target: Any) -> tuple[Tensor, Tensor]:
    """``(preds, target)`` as real tensors, by one rule for every kind of input (tensors, NumPy arrays, nested lists,
    scalars): a 0-d value (Python scalar, 0-d array or 0-d tensor) is a batch of one sample, whose shape the other
    input must then match; an empty input, a ragged nested list or a complex dtype raise a typed error.

    >>> [tuple(x.shape) for x in read_inputs(0.7, torch.tensor(1))]
    [(1,), (1,)]
    """
    preds, target = _tensor(preds, "preds"), _tensor(target, "target")
    preds, target = (x.reshape(1) if x.ndim == 0 else x for x in (preds, target))
    if preds.numel() == 0 or target.numel() == 0:
        raise problem(ShapeError, "preds" if preds.numel() == 0 else "target", "to hold at least one sample",
                      f"shape {tuple(preds.shape if preds.numel() == 0 else target.shape)}", "pass a non-empty batch")
    return preds, target


def encode_labels(values: Any, labels: tuple[Any, ...], name: str, other: bool = False) -> Any:
    """``values`` (strings, objects, numbers; any nesting) as int64 indices into ``labels`` — ``labels[i]`` is
    class i. A value not among ``labels`` is class ``len(labels)`` when ``other`` (scikit-learn's subset of labels),
    else it raises :class:`TargetError`. One dictionary look-up per element: for notebooks, not for hot loops (pass
    integer labels there)."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values) if isinstance(values, np.ndarray) else np.array(values, dtype=object)
        index = {label: i for i, label in enumerate(labels)}
        flat = array.reshape(-1).tolist()
        codes = np.fromiter((index.get(v, len(labels)) for v in flat) if other else (index[v] for v in flat),
                            dtype=np.int64, count=array.size)
    except KeyError as e:
        raise problem(TargetError, name, f"to hold only values among the 2 labels={list(labels)} of a binary task",
                      repr(e.args[0]), "add it to labels=, or pass task='multiclass' to score the listed labels "
                      "among others (scikit-learn's labels=)") from None
    except (TypeError, ValueError):
        raise problem(ShapeError, name, "to be a rectangular array of labels", "a ragged or unhashable input",
                      "pass one label per sample") from None
    return codes.reshape(array.shape)


def read_weights(sample_weight: Any, n: int, device: torch.device) -> Tensor | None:
    """``sample_weight`` as float64 ``(n,)`` on ``device`` — finite and ≥ 0 — or None (every sample weighs 1)."""
    if sample_weight is None:
        return None
    w = _tensor(sample_weight, "sample_weight")
    if w.ndim != 1 or w.shape[0] != n:
        raise problem(ShapeError, "sample_weight", f"to have shape ({n},), one weight per sample of `preds`",
                      f"{tuple(w.shape)}", "pass one weight per sample (scikit-learn's sample_weight)")
    w = w.to(device=device, dtype=torch.float64)
    lo, hi = _minmax(w)
    if not (lo >= 0 and math.isfinite(hi)):
        raise problem(DomainError, "sample_weight", "to hold finite weights ≥ 0", f"min {lo:g}, max {hi:g}",
                      "pass non-negative weights")
    return w


def _per_row(w: Tensor | None, shape: torch.Size) -> Tensor | None:
    """A sample's weight repeated over the extra dimensions ``shape[1:]`` of its target, flattened."""
    if w is None or len(shape) <= 1:
        return w
    return w[:, None].expand(shape[0], math.prod(shape[1:])).reshape(-1)


def _integral(x: Tensor) -> bool:
    """Whether a float tensor holds whole numbers only (float-coded labels such as 0.0 / 1.0); one pass."""
    return bool(torch.isfinite(x).all()) and bool((x == x.round()).all())


def _check_target_dtype(target: Tensor) -> Tensor:
    if target.is_floating_point():
        if _integral(target):  # float-coded labels, as scikit-learn reads them (y_true = [0.0, 1.0, ...])
            return target.long()
        raise problem(TargetError, "target", "to hold integer class labels", f"dtype {target.dtype} with "
                      "fractional values", "pass class labels (a float target with fractions is a regression "
                      "target); almanac takes preds first — scikit-learn's f(y_true, y_score) is f(y_score, y_true)")
    return target if target.dtype == torch.int64 else target.long()  # uint8 masks, int8, int16, bool: as int64


def _float_labels(preds: Tensor, target: Tensor) -> TargetError | None:
    """On an error path only: the error for float preds of the target's shape holding whole numbers above 1 —
    float-coded class labels, which almanac never reads as labels (float preds are scores)."""
    if (preds.shape == target.shape and preds.numel() and _integral(preds.detach()) and float(preds.min()) >= 0
            and float(preds.max()) > 1):
        return problem(TargetError, "preds", "to hold integer class labels, or (N, C) class scores",
                       f"float-coded labels up to {float(preds.max()):g}", "cast them to integers "
                       "(preds.long(), np.asarray(preds, dtype=int)): float preds are read as scores, never as labels")
    return None


def _check_scores(preds: Tensor, from_logits: bool, target: Tensor | None = None) -> None:
    """Probabilities in [0, 1], or finite logits when ``from_logits``; one pass either way."""
    lo, hi = _minmax(preds.detach())
    if from_logits:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise problem(DomainError, "preds", "to be finite", f"min {lo:g}, max {hi:g}",
                          "remove or impute NaN and inf before calling")
    elif not (lo >= 0.0 and hi <= 1.0):  # NaN fails both comparisons
        labels = None if target is None else _float_labels(preds, target)
        if labels is not None:
            raise labels
        raise problem(DomainError, "preds", "to hold probabilities in [0, 1]", f"min {lo:g}, max {hi:g}",
                      "pass probabilities, or pass from_logits=True if these are logits")


def _check_labels(x: Tensor, name: str, high: int, task: str) -> None:
    if x.numel() == 0:
        return
    lo, hi = (int(v) for v in _minmax(x))
    if lo >= 0 and hi < high:
        return
    if task == "multiclass":
        want = f"class indices in [0, {high})"
        fix = "fix the labels, or leave them out with ignore_index=" if lo < 0 else (
            f"pass num_classes={hi + 1} or fix the labels")
    else:
        want = "labels in {0, 1}"
        fix = ("pass labels in {0, 1}, or scores as floats" if name == "preds" else
               f"pass a multi-hot `{name}` of 0s and 1s" if task == "multilabel" else
               f"pass task='multiclass' (num_classes={hi + 1}) if `{name}` holds more classes, or map it to {{0, 1}}")
    raise problem(TargetError, name, f"to hold {want}", f"min {lo}" if lo < 0 else f"max {hi}", fix)


def _ambiguous(preds: Tensor, target: Tensor, why: str) -> ConfigError:
    return problem(ConfigError, "task", f"to be given for preds {tuple(preds.shape)} {preds.dtype} and target "
                   f"{tuple(target.shape)}", why,
                   "pass task='binary', 'multiclass' (with num_classes=) or 'multilabel' (with num_labels=)")


def _infer_task(preds: Tensor, target: Tensor, num_classes: int | None, num_labels: int | None,
                ignore_index: int | None, spatial: bool) -> tuple[str, int | None]:
    """The documented inference rules; returns (task, num_classes or None when it is read later)."""
    if num_labels is not None:
        return "multilabel", num_labels
    if preds.ndim == target.ndim + 1:
        if preds.shape[1] == 1:  # (N, 1) probabilities against (N,) labels: never a one-class problem
            raise problem(ShapeError, "preds", f"to have the shape of `target` {tuple(target.shape)}, or (N, C ≥ 2, "
                          "...) class scores", f"{tuple(preds.shape)}",
                          "squeeze the class dimension (preds[:, 0]) for binary probabilities")
        return "multiclass", num_classes or preds.shape[1]
    if preds.shape != target.shape:
        raise problem(ShapeError, "target", f"to have the shape of `preds` {tuple(preds.shape)} (or one dimension "
                      "less, for (N, C, ...) scores)", f"{tuple(target.shape)}",
                      "pass tensors of matching shapes; almanac never broadcasts")
    if num_classes is not None:
        return "multiclass", num_classes
    valid = target if ignore_index is None else target[target != ignore_index]
    t_hi = _minmax(valid)[1] if valid.numel() else 0
    if preds.is_floating_point():
        if t_hi > 1:
            raise _float_labels(preds, target) or _ambiguous(preds, target,
                                                             f"float preds with target labels up to {int(t_hi)}")
        if preds.ndim == 1 or spatial:
            return "binary", 2
        if preds.ndim == 2:
            return "multilabel", preds.shape[1]
        raise _ambiguous(preds, target, f"{preds.ndim}-D inputs of equal shape")
    p_hi = _minmax(preds)[1]
    hi = max(t_hi, p_hi)
    if preds.ndim == 1 or spatial:
        return ("binary", 2) if hi <= 1 else ("multiclass", int(hi) + 1)
    if preds.ndim == 2 and hi <= 1:
        return "multilabel", preds.shape[1]
    raise _ambiguous(preds, target, f"{preds.ndim}-D labels up to {int(hi)}")


# -- classification -----------------------------------------------------------------------------------------------
def format_classification(
    preds: Any,
    target: Any,
    *,
    task: str | None = None,
    num_classes: int | None = None,
    num_labels: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    needs: str = "labels",
    resolved: tuple[str, int] | None = None,
    spatial: bool = False,
    sample_weight: Any = None,
    labels: tuple[Any, ...] | None = None,
) -> Batch:
    """Validate and flatten one classification batch (rules in the module docstring).

    ``needs`` is ``"labels"`` (hard labels, thresholding or arg-maxing scores), ``"probabilities"`` or
    ``"scores"``. ``resolved`` is the ``(task, num_classes)`` of an earlier batch of the same stream; when given,
    this batch must agree with it. Keyword values are assumed checked by :func:`check_classification_options`.

    >>> b = format_classification([0.2, 0.9, 0.6], [0, 1, 0])
    >>> b.task, b.preds.tolist(), b.target.tolist()
    ('binary', [0, 1, 1], [0, 1, 0])
    >>> format_classification([[0.1, 0.9], [0.8, 0.2]], [1, 0], needs="probabilities").task
    'multiclass'
    """
    if labels is not None:  # class i is labels[i]; multiclass: any other value is class len(labels), never reported
        if task is None:
            task = "binary" if len(labels) == 2 else "multiclass"
        other = task == "multiclass"
        preds, target = encode_labels(preds, labels, "preds", other), encode_labels(target, labels, "target", other)
        num_classes = None if task == "binary" else len(labels) + 1
    preds, target = read_inputs(preds, target)
    weight = read_weights(sample_weight, preds.shape[0], preds.device)
    target = _check_target_dtype(target)
    if not preds.is_floating_point() and preds.dtype != torch.int64:
        preds = preds.long()  # bool, uint8, int8, ...: labels are read as int64 (target * C + pred cannot wrap)
    is_scores = preds.is_floating_point()
    if resolved is not None:
        task, n = resolved
    elif task is None:
        task, n = _infer_task(preds, target, num_classes, num_labels, ignore_index, spatial)
    else:
        n = {"binary": 2, "multiclass": num_classes, "multilabel": num_labels}[task]

    # shapes ------------------------------------------------------------------------------------------------------
    if task == "multiclass" and preds.ndim == target.ndim + 1:
        if not is_scores:
            raise problem(TargetError, "preds", "to hold float scores when it has a class dimension",
                          f"dtype {preds.dtype}", "pass (N, C, ...) float scores or (N, ...) integer labels")
        if n is None:
            n = preds.shape[1]
        if preds.shape[1] != n or preds.shape[:1] + preds.shape[2:] != target.shape:
            raise problem(ShapeError, "preds", f"to have shape (N, {n}, ...) matching target {tuple(target.shape)}",
                          f"{tuple(preds.shape)}", f"pass scores for {n} classes (num_classes={preds.shape[1]}?)")
        preds = preds.movedim(1, -1).reshape(-1, n) if preds.ndim > 2 else preds
        weight = _per_row(weight, target.shape)
        target = target.reshape(-1)
    elif preds.shape != target.shape:
        fix = ("pass (N,) probabilities of the positive class (squeeze a trailing 1), or task='multiclass'"
               if task == "binary" else "pass tensors of the same shape; almanac never broadcasts")
        raise problem(ShapeError, "target", f"to have the shape of `preds` {tuple(preds.shape)}",
                      f"{tuple(target.shape)}", fix)
    elif task == "multilabel":
        if preds.ndim < 2:
            raise problem(ShapeError, "preds", "to have shape (N, L, ...) for task='multilabel'",
                          f"{tuple(preds.shape)}", "pass one column per label")
        if n is None:
            n = preds.shape[1]
        if preds.shape[1] != n:
            raise problem(ShapeError, "preds", f"to have {n} labels in dimension 1", f"{tuple(preds.shape)}",
                          f"pass num_labels={preds.shape[1]} or fix the predictions")
        if preds.ndim > 2:
            weight = _per_row(weight, target[:, 0].shape)
            preds, target = preds.movedim(1, -1).reshape(-1, n), target.movedim(1, -1).reshape(-1, n)
    else:
        if task == "multiclass" and is_scores:
            raise _float_labels(preds, target) or problem(
                ShapeError, "preds", "to have a class dimension (N, C, ...) when it holds scores",
                f"{tuple(preds.shape)} float", "pass (N, C) scores, or integer labels")
        weight = _per_row(weight, target.shape)
        preds, target = preds.reshape(-1), target.reshape(-1)

    # ignore_index ------------------------------------------------------------------------------------------------
    mask = None
    if ignore_index is not None:
        keep = target != ignore_index
        if task == "multilabel":
            mask = keep
            target = torch.where(keep, target, 0)
        else:
            preds, target = preds[keep], target[keep]
            weight = None if weight is None else weight[keep]

    # values ------------------------------------------------------------------------------------------------------
    if n is None:  # multiclass labels with no num_classes: read it from the labels
        hi = max(_minmax(preds)[1] if preds.numel() else 0, _minmax(target)[1] if target.numel() else 0)
        n = max(int(hi) + 1, 2)
    high = 2 if task == "multilabel" else n  # multi-hot targets and hard multilabel preds hold 0 / 1 only
    _check_labels(target, "target", high, task)
    if is_scores:
        if preds.numel():
            # arg-max takes probabilities and logits alike: label metrics on (N, C) scores need them finite only
            _check_scores(preds, from_logits or (task == "multiclass" and needs == "labels"), target)
    else:
        if needs != "labels":
            raise problem(TargetError, "preds", "to hold probabilities or scores (floats)",
                          f"integer labels ({preds.dtype})", "pass the model's probabilities, not hard labels; "
                          "almanac takes preds first — scikit-learn's roc_auc_score(y, s) is auroc(s, y)")
        _check_labels(preds, "preds", high, task)

    if is_scores:
        if needs == "labels":
            if task == "multiclass":
                preds = preds.argmax(dim=-1)
            else:
                preds = (torch.sigmoid(preds) if from_logits else preds) > threshold
                preds = preds.long()
            is_scores = False
        elif from_logits:
            if task == "multiclass":
                preds = torch.softmax(preds, dim=-1)
            elif needs == "probabilities":
                preds = torch.sigmoid(preds)
    return Batch(preds, target, task, n, is_scores, mask, weight)


# -- regression ---------------------------------------------------------------------------------------------------
def check_finite_values(preds: Tensor, target: Tensor) -> None:
    """NaN or inf in either tensor raise :class:`DomainError` (one ``aminmax`` pass each)."""
    for x, name in ((preds, "preds"), (target, "target")):
        lo, hi = _minmax(x.detach())
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise problem(DomainError, name, "to be finite", f"min {lo:g}, max {hi:g}",
                          "remove or impute NaN and inf before calling")


def format_regression(
    preds: Any, target: Any, *, resolved: tuple[str, int] | None = None, check_finite: bool = True,
    sample_weight: Any = None,
) -> Batch:
    """Validate one regression batch: preds and target of equal shape ``(N,)`` or ``(N, D)``, finite floats.

    Integer inputs are read as floats, float16 / bfloat16 as float32. ``num_classes`` of the result is the number
    of outputs D (1 for 1-D). ``check_finite=False`` leaves the NaN / inf check to the caller — the regression
    metrics check their batch sums instead (finite sums of errors imply finite inputs) and only then scan the
    inputs, with :func:`check_finite_values`, to say which one is bad.

    >>> format_regression([1.0, 2.0], [1.5, 2.0]).num_classes
    1
    """
    preds, target = read_inputs(preds, target)
    if preds.shape != target.shape:
        raise problem(ShapeError, "target", f"to have the shape of `preds` {tuple(preds.shape)}",
                      f"{tuple(target.shape)}", "pass tensors of the same shape; almanac never broadcasts")
    if preds.ndim not in (1, 2):
        raise problem(ShapeError, "preds", "to have shape (N,) or (N, D)", f"{tuple(preds.shape)}",
                      "reshape it: one row per sample, one column per output")
    if preds.numel() == 0:
        raise problem(ShapeError, "preds", "to hold at least one sample", f"shape {tuple(preds.shape)}",
                      "pass a non-empty batch")
    dtype = torch.promote_types(preds.dtype, target.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    elif dtype in (torch.float16, torch.bfloat16):
        dtype = torch.float32
    preds, target = preds.to(dtype), target.to(dtype)
    if check_finite:
        check_finite_values(preds, target)
    d = 1 if preds.ndim == 1 else preds.shape[1]
    if resolved is not None and resolved[1] != d:
        raise problem(ShapeError, "preds", f"to have {resolved[1]} output(s) like the earlier batches",
                      f"{d}", "pass batches with the same number of outputs")
    weight = read_weights(sample_weight, preds.shape[0], preds.device)
    return Batch(preds, target, "regression", d, True, weight=weight)

