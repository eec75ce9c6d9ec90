"""Regression metrics, with scikit-learn's definitions.

``preds`` and ``target``: real values of equal shape ``(N,)`` or ``(N, D)`` (D outputs; integers are read as
floats); NaN or inf raise :class:`~almanac.errors.DomainError`. With D outputs the metric is computed per output
and averaged uniformly (scikit-learn's ``multioutput="uniform_average"``).

States are per-output sums in float64 (of errors, squared errors, targets, squared targets) plus a count, and for R²
and explained variance two bounds that tell a constant target exactly, so streaming, merging and distributed sync
are additions (min / max for the bounds). The pure functions keep the autograd
graph (``differentiable`` in their specs).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from almanac._checks import check_number
from almanac.errors import DomainError, UndefinedMetricError, problem
from almanac.metrics._format import Batch, check_finite_values, format_regression
from almanac.metrics._metric import Metric
from almanac.metrics._registry import evaluate, register

__all__ = [
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "R2",
    "RMSE",
    "RMSLE",
    "ExplainedVariance",
    "explained_variance",
    "mae",
    "mape",
    "mse",
    "msle",
    "r2",
    "rmse",
    "rmsle",
]

_SKLEARN = "scikit-learn: sklearn.metrics.{}"
_ERROR_FACTS = {"tasks": ("regression",), "needs": "values", "higher_is_better": False, "range": (0.0, math.inf),
                "differentiable": True}
_MAPE_EPS = torch.finfo(torch.float64).eps  # scikit-learn's floor on |target|


def _sum(x: Tensor, w: Tensor | None = None) -> Tensor:
    """Σ x (weighted: Σ w·x) per output, as float64 ``(D,)``; unweighted sums run in the input dtype (torch sums
    pairwise), weighted ones in float64."""
    if w is not None:
        x = x.double()
        return (torch.dot(w, x) if x.ndim == 1 else w @ x).reshape(-1)
    return x.sum(0).double().reshape(-1)


def _sum_sq(x: Tensor, w: Tensor | None = None) -> Tensor:
    """Σ x² (weighted: Σ w·x²) per output, as float64 ``(D,)``: one BLAS dot for 1-D inputs."""
    if w is not None:
        return _sum(x.double() ** 2, w)
    return torch.dot(x, x).double().reshape(1) if x.ndim == 1 else (x * x).sum(0).double()


def _moments(x: Tensor, *, fresh: bool = False, w: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(Σ x, Σ x², Σ (x − s)², s) per output in float64, around a shift s (the first sample), without cancellation.

    With c = x − s: Σ x = n s + Σ c and Σ x² = Σ c² + 2 s Σ x − n s². The sums run over the small deviations c in
    the input dtype, so float32 inputs whose |mean| ≫ std keep their spread Σ x² − (Σ x)² / n; the float64 states
    then lose only log10(mean² / var) of float64's 16 digits. Σ c² is 0 exactly when every x equals s (a constant
    batch). ``fresh``: ``x`` is a temporary of the caller, shifted in place when autograd does not need it.
    ``w``: sample weights; every sum is then weighted and n is Σ w.
    """
    n = x.shape[0] if w is None else w.sum()
    shift = x[0].detach().clone()
    deviation = x.sub_(shift) if fresh and not x.requires_grad else x - shift
    s = shift.double().reshape(-1)
    total = n * s + _sum(deviation, w)
    spread = _sum_sq(deviation, w)
    return total, spread + (2 * total - n * s) * s, spread, s


def _constant_bounds(spread: Tensor, first: Tensor) -> dict[str, Tensor]:
    """States that tell a constant target exactly, with no pass of their own: a constant batch gives
    (first, first), any other (−inf, +inf); under min / max they stay equal only if every batch is constant
    with the same value. (A spread of deviations below ~1e-23 underflows to 0 in float32 and reads as constant.)"""
    constant = spread.detach() == 0
    first = first.detach()
    return {"constant_lo": torch.where(constant, first, -math.inf),
            "constant_hi": torch.where(constant, first, math.inf)}


def _abs_error(preds: Tensor, target: Tensor) -> Tensor:
    """|preds − target|, in place on the fresh difference unless autograd needs it (one allocation fewer)."""
    error = preds - target
    return error.abs() if error.requires_grad else error.abs_()


def _all_finite(stats: dict[str, Tensor]) -> bool:
    return all(math.isfinite(v) for t in stats.values() for v in t.detach().reshape(-1).tolist())


class _Regression(Metric):
    """Base: per-output sum states. Subclasses list ``_sums`` (state names) and give ``_batch_sums(preds,
    target)`` and ``_per_output(states)``.

    NaN / inf are found through the batch sums (a finite sum of errors needs finite inputs), which spares a pass
    over each input; only a non-finite sum triggers the scan that names the bad input, and if both inputs are
    finite the sums overflowed the input dtype and are recomputed in float64."""

    _sums: tuple[str, ...] = ()
    _extremes = False  # keep the constant-target bounds (see _constant_bounds)

    def _check_params(self, params: dict[str, Any]) -> None:
        if params.get("fallback") is not None:
            check_number(params["fallback"], "fallback")

    def _format(self, preds: Any, target: Any, sample_weight: Any = None) -> Batch:
        return format_regression(preds, target, resolved=self._resolved, check_finite=False,
                                 sample_weight=sample_weight)

    def _check_domain(self, preds: Tensor, target: Tensor) -> None:
        """Raise for values outside the metric's domain (called only when a batch sum is not finite)."""

    def _init_states(self, resolved: tuple[str, int], device: torch.device) -> None:
        d = resolved[1]
        for name in self._sums:
            self.add_state(name, torch.zeros(d, dtype=torch.float64, device=device))
        self.add_state("count", torch.zeros((), dtype=self._count_dtype, device=device))
        if self._extremes:
            self.add_state("constant_lo", torch.full((d,), math.inf, dtype=torch.float64, device=device), "min")
            self.add_state("constant_hi", torch.full((d,), -math.inf, dtype=torch.float64, device=device), "max")

    def _batch_sums(self, preds: Tensor, target: Tensor, w: Tensor | None = None) -> dict[str, Tensor]:
        """The batch's sums (weighted by ``w`` when given)."""
        raise NotImplementedError

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        raise NotImplementedError

    def _batch_states(self, batch: Batch) -> dict[str, Tensor]:
        w = batch.weight
        out = self._batch_sums(batch.preds, batch.target, w)
        if not _all_finite({k: out[k] for k in self._sums}):
            self._check_domain(batch.preds, batch.target)
            check_finite_values(batch.preds, batch.target)
            out = self._batch_sums(batch.preds.double(), batch.target.double(), w)
        out["count"] = torch.tensor(batch.target.shape[0], device=batch.target.device) if w is None else w.sum()
        return out

    def _compute(self, states: dict[str, Tensor], resolved: tuple[str, int]) -> Tensor:
        return self._per_output(states).mean()

    def _explained(self, states: dict[str, Tensor], residual: Tensor) -> Tensor:
        """``1 − residual / Σ(t − mean t)²`` per output; a constant target raises unless ``fallback``."""
        n = states["count"].double()
        spread = states["target_sq"] - states["target"] ** 2 / n
        constant = states["constant_hi"] == states["constant_lo"]
        if bool(constant.any()):
            fallback = self.params["fallback"]
            if fallback is None:
                raise UndefinedMetricError(f"{self.spec.name} is undefined: the target is constant (zero variance) "
                                           "— pass fallback=<value> to score such an output with it")
            spread = torch.where(constant, 1.0, spread)
            return torch.where(constant, float(fallback), 1 - residual / spread)
        return 1 - residual / spread


# -- errors -------------------------------------------------------------------------------------------------------
class MSE(_Regression):
    """Streaming :func:`mse`."""

    _sums = ("sq_error",)

    def _batch_sums(self, preds: Tensor, target: Tensor, w: Tensor | None = None) -> dict[str, Tensor]:
        return {"sq_error": _sum_sq(preds - target, w)}

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        return states["sq_error"] / states["count"]


class RMSE(MSE):
    """Streaming :func:`rmse`."""

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        return super()._per_output(states).sqrt()


class MAE(_Regression):
    """Streaming :func:`mae`."""

    _sums = ("abs_error",)

    def _batch_sums(self, preds: Tensor, target: Tensor, w: Tensor | None = None) -> dict[str, Tensor]:
        return {"abs_error": _sum(_abs_error(preds, target), w)}

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        return states["abs_error"] / states["count"]


class MSLE(_Regression):
    """Streaming :func:`msle`."""

    _sums = ("sq_log_error",)

    def _check_domain(self, preds: Tensor, target: Tensor) -> None:
        for x, name in ((preds, "preds"), (target, "target")):
            lo = x.detach().min().item()
            if lo <= -1:
                raise problem(DomainError, name, "to hold values greater than −1 (log1p is taken)", f"min {lo:g}",
                              "use msle only for targets ≥ 0 such as counts or prices")

    def _batch_sums(self, preds: Tensor, target: Tensor, w: Tensor | None = None) -> dict[str, Tensor]:
        return {"sq_log_error": _sum_sq(torch.log1p(preds) - torch.log1p(target), w)}

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        return states["sq_log_error"] / states["count"]


class RMSLE(MSLE):
    """Streaming :func:`rmsle`."""

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        return super()._per_output(states).sqrt()


class MAPE(_Regression):
    """Streaming :func:`mape`."""

    _sums = ("rel_error",)

    def _batch_sums(self, preds: Tensor, target: Tensor, w: Tensor | None = None) -> dict[str, Tensor]:
        error, scale = _abs_error(preds, target), target.abs().clamp_min_(_MAPE_EPS)
        return {"rel_error": _sum(error / scale if error.requires_grad else error.div_(scale), w)}

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        return states["rel_error"] / states["count"]


@register(MSE, summary="Mean squared error.", formula="mean_n (ŷ_n − y_n)²",
          references=(_SKLEARN.format("mean_squared_error"),), **_ERROR_FACTS)
def mse(preds: Any, target: Any, *, sample_weight: Any = None) -> Any:
    """Mean squared error.

    Per output, then the mean over outputs.

    Args: ``preds``, ``target``: ``(N,)`` or ``(N, D)`` values. Returns: a scalar.

    >>> mse([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0])
    0.375
    """
    return evaluate(MSE, preds, target, locals())


@register(RMSE, summary="Root mean squared error.", formula="sqrt(mean_n (ŷ_n − y_n)²)",
          references=(_SKLEARN.format("root_mean_squared_error"),), **_ERROR_FACTS)
def rmse(preds: Any, target: Any, *, sample_weight: Any = None) -> Any:
    """Root mean squared error.

    Per output, then the mean over outputs (as scikit-learn).

    >>> rmse([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0])
    0.6123724356957945
    """
    return evaluate(RMSE, preds, target, locals())


@register(MAE, summary="Mean absolute error.", formula="mean_n |ŷ_n − y_n|",
          references=(_SKLEARN.format("mean_absolute_error"),), **_ERROR_FACTS)
def mae(preds: Any, target: Any, *, sample_weight: Any = None) -> Any:
    """Mean absolute error.

    >>> mae([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0])
    0.5
    """
    return evaluate(MAE, preds, target, locals())


@register(MSLE, summary="Mean squared logarithmic error (for positive targets spanning orders of magnitude).",
          formula="mean_n (log(1 + ŷ_n) − log(1 + y_n))²",
          references=(_SKLEARN.format("mean_squared_log_error"),), **_ERROR_FACTS)
def msle(preds: Any, target: Any, *, sample_weight: Any = None) -> Any:
    """Mean squared logarithmic error.

    Values ≤ −1 raise :class:`~almanac.errors.DomainError` (scikit-learn ≥ 1.5 rejects the same).

    >>> round(msle([2.5, 5.0, 4.0, 8.0], [3.0, 5.0, 2.5, 7.0]), 6)
    0.03973
    """
    return evaluate(MSLE, preds, target, locals())


@register(RMSLE, summary="Root mean squared logarithmic error.", formula="sqrt(mean_n (log(1 + ŷ_n) − log(1 + y_n))²)",
          references=(_SKLEARN.format("root_mean_squared_log_error"),), **_ERROR_FACTS)
def rmsle(preds: Any, target: Any, *, sample_weight: Any = None) -> Any:
    """Root mean squared logarithmic error.

    Per output, then the mean over outputs.

    >>> round(rmsle([2.5, 5.0, 4.0, 8.0], [3.0, 5.0, 2.5, 7.0]), 6)
    0.199324
    """
    return evaluate(RMSLE, preds, target, locals())


@register(MAPE, summary="Mean absolute percentage error (a fraction, not percent).",
          formula="mean_n |ŷ_n − y_n| / max(|y_n|, ε), ε = float64 machine epsilon",
          references=(_SKLEARN.format("mean_absolute_percentage_error"),), **_ERROR_FACTS)
def mape(preds: Any, target: Any, *, sample_weight: Any = None) -> Any:
    """Mean absolute percentage error, as a fraction (0.1 is 10 %).

    ε is the float64 machine epsilon (scikit-learn's floor), so a zero target with a wrong prediction gives a huge
    value rather than inf.

    >>> round(mape([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0]), 6)
    0.327381
    """
    return evaluate(MAPE, preds, target, locals())


# -- explained --------------------------------------------------------------------------------------------------
class R2(_Regression):
    """Streaming :func:`r2`."""

    _sums = ("sq_error", "target", "target_sq")
    _extremes = True

    def _batch_sums(self, preds: Tensor, target: Tensor, w: Tensor | None = None) -> dict[str, Tensor]:
        total, total_sq, spread, first = _moments(target, w=w)
        return {"sq_error": _sum_sq(preds - target, w), "target": total, "target_sq": total_sq,
                **_constant_bounds(spread, first)}

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        return self._explained(states, states["sq_error"])


class ExplainedVariance(_Regression):
    """Streaming :func:`explained_variance`."""

    _sums = ("error", "sq_error", "target", "target_sq")
    _extremes = True

    def _batch_sums(self, preds: Tensor, target: Tensor, w: Tensor | None = None) -> dict[str, Tensor]:
        error, error_sq, _, _ = _moments(target - preds, fresh=True, w=w)
        total, total_sq, spread, first = _moments(target, w=w)
        return {"error": error, "sq_error": error_sq, "target": total, "target_sq": total_sq,
                **_constant_bounds(spread, first)}

    def _per_output(self, states: dict[str, Tensor]) -> Tensor:
        residual = states["sq_error"] - states["error"] ** 2 / states["count"].double()
        return self._explained(states, residual)


_EXPLAINED_FACTS = {"tasks": ("regression",), "needs": "values", "higher_is_better": True,
                    "range": (-math.inf, 1.0), "differentiable": True}


@register(R2, summary="Coefficient of determination: the share of the target's variance the predictions explain.",
          formula="1 − Σ_n (y_n − ŷ_n)² / Σ_n (y_n − ȳ)²", references=(_SKLEARN.format("r2_score"),),
          **_EXPLAINED_FACTS)
def r2(preds: Any, target: Any, *, sample_weight: Any = None, fallback: float | None = None) -> Any:
    """R², the coefficient of determination.

    Per output, then the mean over outputs.

    A constant target (zero variance, including a single sample) makes R² undefined: it raises
    :class:`~almanac.errors.UndefinedMetricError` unless ``fallback`` is given, which then scores that output
    (scikit-learn instead returns 1.0 for a perfect and 0.0 for an imperfect prediction).

    >>> round(r2([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0]), 6)
    0.948608
    """
    return evaluate(R2, preds, target, locals())


@register(ExplainedVariance, summary="Share of the target's variance explained, ignoring a constant bias.",
          formula="1 − Var(y − ŷ) / Var(y)", references=(_SKLEARN.format("explained_variance_score"),),
          **_EXPLAINED_FACTS)
def explained_variance(preds: Any, target: Any, *, sample_weight: Any = None, fallback: float | None = None) -> Any:
    """Explained variance score.

    Per output, then the mean over outputs. Unlike R² a constant offset of the predictions is not penalised. A
    constant target raises :class:`~almanac.errors.UndefinedMetricError` unless ``fallback`` is given.

    >>> round(explained_variance([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0]), 6)
    0.957173
    """
    return evaluate(ExplainedVariance, preds, target, locals())
