"""The lab's statistics, with SciPy: a confidence interval per configuration and paired comparisons by seed.

- :func:`interval`: the mean of a measure across seeds with its 95% **Student t-interval**,
  ``mean ± t(0.975, n-1) · s / √n`` (``scipy.stats.t``). Seeds are few (2–5), so the t-interval, not a normal
  or bootstrap one: a bootstrap from 3 values cannot show more spread than the 3 values have.
- :func:`paired`: two configurations compared **seed by seed** — runs with the same seed share the data split and
  the initial weights, so the per-seed differences ``d_i = a_i − b_i`` remove that shared noise. Reported: the mean
  difference with its t-interval, the **paired t-test** (``scipy.stats.ttest_rel``; chosen over the Wilcoxon
  signed-rank test because with n ≤ 5 seeds Wilcoxon's smallest two-sided p is 2/2ⁿ ≥ 0.0625, so it could never
  reject at 5%, and because the t-test's decision is exactly "the t-interval excludes zero"), the effect size
  **Cohen's d_z** = mean(d) / sd(d), and the seeds a paired t-test would need to detect a difference of this size
  with 80% power at α = 0.05 (noncentral t, ``scipy.stats.nct``).
- **Bounded measures** (accuracy, F1, IoU … in [0, 1]): the t-interval is clipped to the range the measure can
  take, read from the metric's spec (``bounds``). Clipping cannot change the coverage: the true mean lies inside
  the range, so the clipped interval holds it exactly when the unclipped one does; it only removes values the
  measure cannot take (``0.995 [0.98, 1.0]``, never ``[0.98, 1.01]``). A difference of two such measures is clipped
  to ``±(high − low)``.
- **Several comparisons in one claim** (the best of three losses against cross-entropy): the paired t-tests' p-values
  are adjusted with **Holm's step-down method** (:func:`holm`), which keeps the chance of *any* false claim in the
  family at 5% under any dependence between the tests (they share the baseline, so they are correlated), and is
  never less powerful than Bonferroni. An effect is stated only when its Holm-adjusted p is below 0.05 and its
  interval excludes zero. Holm, not Benjamini–Hochberg (``scipy.stats.false_discovery_control``): a finding makes a
  claim about one named comparison, so the error to bound is a false claim, not the share of false ones among many.
  SciPy has no Holm; it is a few lines over the sorted p-values, checked against statsmodels in the tests.

>>> round(interval([0.80, 0.82, 0.84]).low, 4), round(interval([0.80, 0.82, 0.84]).high, 4)
(0.7703, 0.8697)
>>> p = paired([0.90, 0.92, 0.95], [0.85, 0.88, 0.90])
>>> round(p.mean, 3), p.excludes_zero, round(p.p_value, 4), round(p.effect_size, 2)
(0.047, True, 0.0051, 8.08)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

__all__ = ["LEVEL", "POWER", "Bounds", "Interval", "Paired", "adjust", "holm", "interval", "paired", "seeds_needed"]

#: the confidence level of every interval, and the test's level is 1 − LEVEL
LEVEL = 0.95
#: the power the seed-count estimate aims at
POWER = 0.8
#: above this many seeds the estimate says "more than"
MAX_SEEDS = 200

#: the range a measure can take, ``(low, high)`` (either end may be infinite)
Bounds = tuple[float, float]
UNBOUNDED: Bounds = (-math.inf, math.inf)


@dataclass(frozen=True)
class Interval:
    """A mean over ``n`` seeds with its t-interval (``low``/``high`` NaN for one seed: no spread to judge)."""

    mean: float
    low: float
    high: float
    n: int

    def text(self, digits: int = 3) -> str:
        """``0.905 [0.890, 0.920]``, or just the mean with one seed (no interval, no ``± 0``)."""
        if math.isnan(self.mean):
            return "not measured"
        if math.isnan(self.low):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def _clean(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[~np.isnan(array)]


def interval(values: Sequence[float], level: float = LEVEL, bounds: Bounds = UNBOUNDED) -> Interval:
    """Mean of ``values`` (NaNs dropped) with its Student t-interval at ``level``, clipped to ``bounds``.

    Identical values give a zero-width interval; one value gives no interval (NaN ends).

    >>> interval([0.99, 1.0, 1.0], bounds=(0.0, 1.0)).text()
    '0.997 [0.982, 1.000]'
    """
    x = _clean(values)
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if x.size == 1:
        return Interval(mean, math.nan, math.nan, 1)
    if np.allclose(x, x[0], rtol=1e-9, atol=1e-12):  # identical up to rounding: no spread
        return Interval(mean, mean, mean, int(x.size))
    sem = float(stats.sem(x))
    if sem == 0:
        return Interval(mean, mean, mean, int(x.size))
    low, high = stats.t.interval(level, x.size - 1, loc=mean, scale=sem)
    return Interval(mean, float(max(low, bounds[0])), float(min(high, bounds[1])), int(x.size))


def seeds_needed(effect_size: float, *, alpha: float = 1 - LEVEL, power: float = POWER) -> int | None:
    """The fewest seeds (n ≥ 2) for which a two-sided paired t-test at ``alpha`` rejects with probability ≥
    ``power`` when the true effect size is ``effect_size`` (Cohen's d_z): power(n) = P(|T| > t₁₋α/₂,ₙ₋₁) with
    T ~ noncentral t(n − 1, d_z √n). None when more than :data:`MAX_SEEDS` would be needed (or the effect is 0).

    >>> seeds_needed(1.0), seeds_needed(0.5), seeds_needed(0.0)
    (10, 34, None)
    """
    d = abs(effect_size)
    if not math.isfinite(d) or d == 0:
        return None if d == 0 else 2
    for n in range(2, MAX_SEEDS + 1):
        df = n - 1
        critical = stats.t.ppf(1 - alpha / 2, df)
        noncentrality = d * math.sqrt(n)
        achieved = stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality)
        if achieved >= power:
            return n
    return None


@dataclass(frozen=True)
class Paired:
    """``a`` against ``b`` seed by seed over ``n`` shared seeds: the mean per-seed difference, oriented so that
    positive means ``a`` is better (see :func:`paired`), its 95% t-interval, the paired t-test's p, Cohen's d_z and
    the seeds needed for 80% power (None: more than :data:`MAX_SEEDS`, or nothing to detect). ``comparisons`` is
    the size of the family it was judged in and ``p_adjusted`` its Holm-adjusted p (both as is for one comparison;
    see :func:`adjust`)."""

    mean: float
    low: float
    high: float
    n: int
    p_value: float
    effect_size: float
    seeds: int | None
    comparisons: int = 1
    p_adjusted: float = math.nan

    @property
    def p(self) -> float:
        """The p-value the verdict uses: Holm-adjusted over the family (the plain p for one comparison)."""
        return self.p_value if self.comparisons == 1 or math.isnan(self.p_adjusted) else self.p_adjusted

    @property
    def excludes_zero(self) -> bool:
        """The 95% interval of the difference lies entirely on one side of zero (never with one seed) and, in a
        family of several comparisons, the Holm-adjusted p is below 0.05 too."""
        if self.n < 2 or math.isnan(self.low) or not (self.low > 0 or self.high < 0):
            return False
        return self.comparisons == 1 or self.p < 1 - LEVEL

    @property
    def better(self) -> bool:
        """``a`` is better than ``b``, with the interval excluding zero."""
        return self.excludes_zero and self.low > 0

    @property
    def worse(self) -> bool:
        """``a`` is worse than ``b``, with the interval excluding zero."""
        return self.excludes_zero and self.high < 0

    def text(self, digits: int = 3) -> str:
        """``+0.047 (95% CI +0.032 to +0.061; paired t-test over 3 seeds p = 0.0051; d_z = 8.08)``; in a family,
        ``…; paired t-test over 3 seeds p = 0.0051, Holm-adjusted for 3 comparisons p = 0.015; …``."""
        if self.n < 2:
            return f"{self.mean:+.{digits}f} (one seed: no interval)"
        if math.isnan(self.low):
            return f"{self.mean:+.{digits}f} ({self.n} seeds)"
        p = _p_text(self.p_value)
        if self.comparisons > 1:
            p += f", Holm-adjusted for {self.comparisons} comparisons {_p_text(self.p)}"
        d = "∞ (identical differences)" if math.isinf(self.effect_size) else f"{self.effect_size:.2f}"
        return (f"{self.mean:+.{digits}f} (95% CI {self.low:+.{digits}f} to {self.high:+.{digits}f}; paired t-test "
                f"over {self.n} seeds {p}; d_z = {d})")

    def advice(self) -> str:
        """What to run when the difference is not distinguishable."""
        if self.n < 2:
            return "run --seeds 3 or more to judge it"
        if self.seeds is None:
            return (f"even {MAX_SEEDS} seeds would hardly separate a difference this small (d_z = "
                    f"{self.effect_size:.2f}): for practical purposes they are equivalent")
        return (f"run --seeds {max(self.seeds, self.n + 1)} to detect a difference of this size with "
                f"{POWER:.0%} power" + (f" (at α = 0.05/{self.comparisons}, Bonferroni's level, which Holm's first "
                                        "step uses)" if self.comparisons > 1 else ""))


def _p_text(p: float) -> str:
    return f"p = {p:.2g}" if p >= 1e-4 else "p < 1e-4"


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm, 1979), in the order given: sort ascending, multiply the i-th
    smallest (from 0) by ``m − i``, make the sequence non-decreasing, cap at 1. NaN p-values (one-seed comparisons)
    stay NaN and do not count in ``m``. Rejecting where the adjusted p < α bounds the family-wise error at α.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, math.nan)
    known = np.flatnonzero(~np.isnan(p))
    order = known[np.argsort(p[known], kind="stable")]
    m = order.size
    running = 0.0
    for i, index in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[index]))
        adjusted[index] = running
    return [float(round(v, 15)) for v in adjusted]


def adjust(comparisons: Sequence[Paired]) -> list[Paired]:
    """The family ``comparisons`` (judged together: one claim picks among them) with Holm-adjusted p-values, and
    the seeds needed re-estimated at Bonferroni's α/m. A family of one is returned as is."""
    family = [c for c in comparisons if c.n >= 2 and not math.isnan(c.p_value)]
    m = len(family)
    if m <= 1:
        return list(comparisons)
    adjusted = iter(holm([c.p_value for c in family]))
    out = []
    for c in comparisons:
        if c.n >= 2 and not math.isnan(c.p_value):
            seeds = seeds_needed(c.effect_size, alpha=(1 - LEVEL) / m) if c.seeds is not None else None
            c = replace(c, comparisons=m, p_adjusted=next(adjusted), seeds=seeds)
        out.append(c)
    return out


def paired(a: Sequence[float], b: Sequence[float], *, higher_is_better: bool = True,
           bounds: Bounds = UNBOUNDED) -> Paired:
    """Compare ``a`` and ``b`` (one value per seed, the same seeds in the same order; NaN pairs dropped).

    The difference is ``a − b`` when ``higher_is_better``, else ``b − a``: positive always means ``a`` is better.
    Its t-interval at 95% (clipped to ``±(high − low)`` of the measure's ``bounds``), the paired t-test's two-sided
    p-value, Cohen's d_z and :func:`seeds_needed`.

    >>> paired([1.0, 2.0, 3.0], [0.5, 1.5, 2.5]).text()
    '+0.500 (95% CI +0.500 to +0.500; paired t-test over 3 seeds p < 1e-4; d_z = ∞ (identical differences))'
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    d = x - y if higher_is_better else y - x
    n = int(d.size)
    if n == 0:
        return Paired(math.nan, math.nan, math.nan, 0, math.nan, math.nan, None)
    mean = float(d.mean())
    if n == 1:
        return Paired(mean, math.nan, math.nan, 1, math.nan, math.nan, None)
    sd = float(d.std(ddof=1))
    if np.allclose(d, d[0], rtol=1e-9, atol=1e-12):  # every seed moved by the same amount: the difference is exact
        if mean == 0:
            return Paired(0.0, 0.0, 0.0, n, 1.0, 0.0, None)
        return Paired(mean, mean, mean, n, 0.0, math.copysign(math.inf, mean), 2)
    width = bounds[1] - bounds[0]
    band = interval(d, bounds=(-width, width))
    test = stats.ttest_rel(x, y) if higher_is_better else stats.ttest_rel(y, x)
    effect = mean / sd
    return Paired(mean, band.low, band.high, n, float(test.pvalue), effect, seeds_needed(effect))
