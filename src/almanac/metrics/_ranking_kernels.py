"""Kernels of the ranking metrics: exact tie groups of scores, and the binned (fixed-edge) counts.

Everything here is NumPy on the host and assumes validated input: 1-D finite scores and 0/1 targets.

Exact kernel. Scores become order-preserving int64 keys (the float bits, negatives flipped, so that equal scores
have equal keys and ``-0.0`` meets ``+0.0``); one ``np.sort`` of ``key * 2 + target`` orders scores and labels
together, negatives first among ties. AUROC then needs only the positives' positions (a positive at position i
outranks or ties i − (positives before it) negatives) and AP only the positives' ranks, plus a correction for tied
positives: by binary search when they are few, by one pass over the tie groups when they are many. When one class
is rare a bucket pass comes first: scores are bucketed on a uniform grid (about two buckets per element), one
``bincount`` of ``bucket * 2 + target`` counts each bucket's negatives and positives, and a bucket stays whole when
the metric cannot tell its elements apart (AUROC: it holds one class only; AP: it holds no positive, or positives
with no negative at or above it); only the other buckets are sorted. Counts are integers throughout, so the result
is exact (to the last rounding of the final division or sum) whichever path ran.

Measured on this project's machine before the others loaded it (n = 1e7 float32): ``np.sort`` of the int64 packed
keys ≈ 60 ms, torch.sort of float32 ≈ 990 ms, a bucket pass ≈ 90 ms. With balanced classes nearly every bucket
holds both classes, so the bucket pass is skipped and the sort runs alone.

Binned kernel. ``bin_index`` maps probabilities to ``K`` fixed bins that are equal-width in a symmetric key space
(the float32 bits of ``p`` below one half and of ``1 - p`` above), so that crowded scores near 0 and near 1 get as
many bins per binade as those near 1/2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "auroc_from_groups",
    "average_precision_from_groups",
    "bin_index",
    "bin_lower_edges",
    "binned_error_bounds",
    "exact_auroc",
    "exact_average_precision",
    "order_keys",
    "pr_curve_from_groups",
    "roc_curve_from_groups",
    "scores_from_keys",
    "tie_groups",
]

_BUCKET_MIN_SIZE = 4096  # below it the bucket pass costs more than it saves
_MAX_LOG_BUCKETS = 22  # at most 4M buckets: the counts of one bincount stay below 64 MiB
_SIGN32, _MAG32 = np.int32(-(2**31)), np.int32(2**31 - 1)
_MAG64 = np.int64(2**63 - 1)


# -- order-preserving keys -----------------------------------------------------------------------------------------
def order_keys(scores: np.ndarray) -> np.ndarray:
    """int64 keys with the order of ``scores``: ``a < b`` ⇔ ``key(a) < key(b)`` and ``a == b`` ⇔ equal keys.

    For floats the key is the magnitude bits with the sign applied (IEEE-754 magnitudes sort like their bits).
    """
    if scores.dtype == np.float32:
        bits = scores.view(np.int32)
        key = bits & _MAG32
        np.negative(key, out=key, where=bits < 0)
        return key.astype(np.int64)
    if scores.dtype == np.float64:
        bits = scores.view(np.int64)
        key = bits & _MAG64
        np.negative(key, out=key, where=bits < 0)
        return key
    return scores.astype(np.int64, copy=False)


def scores_from_keys(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The scores of ``keys`` (the inverse of :func:`order_keys` for ``dtype``)."""
    if dtype == np.float32:
        k = keys.astype(np.int32)
        return np.where(k < 0, (-k) | _SIGN32, k).view(np.float32)
    if dtype == np.float64:
        return np.where(keys < 0, (-keys) | np.int64(-(2**63)), keys).view(np.float64)
    return keys.astype(dtype)


# -- exact tie groups ----------------------------------------------------------------------------------------------
def _packed(scores: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``(sorted key·2 + target, offset)``: one sort carries scores and labels (negatives first among ties).

    float32 scores in (−2, 2) (all probabilities) have keys below 2^30 and pack into int32, which halves the bytes
    sorted and scanned; other keys pack into int64, shifted by ``offset`` when needed to fit 62 bits. None when
    they cannot (float64 scores spanning more than 2^62 keys: large magnitudes of both signs).
    """
    if scores.dtype == np.float32:
        bits = scores.view(np.int32)
        keys = bits & _MAG32
        if int(keys.max()) < 2**30:
            np.negative(keys, out=keys, where=bits < 0)
            packed = np.left_shift(keys, 1, out=keys)
            np.bitwise_or(packed, target, out=packed, casting="unsafe")
            packed.sort()
            return packed, 0
    keys = order_keys(scores)
    offset = 0
    if scores.dtype != np.float32:
        lo, hi = int(keys.min()), int(keys.max())
        if hi - lo >= 2**62:
            return None
        if max(-lo, hi) >= 2**62:
            keys = keys - lo
            offset = lo
    packed = np.left_shift(keys, 1, out=keys if keys is not scores else None)
    packed |= target
    packed.sort()
    return packed, offset


def tie_groups(scores: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups of tied scores in increasing order, by sorting: ``(keys, pos, neg)`` (distinct keys, int64 counts)."""
    packed = _packed(scores, target)
    if packed is None:  # sort the two classes apart, then merge their distinct keys
        keys = order_keys(scores)
        return _merged_groups(np.sort(keys[target == 1]), np.sort(keys[target == 0]))
    return _packed_groups(*packed)


def _packed_groups(packed: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ends, pos_through = _group_ends(packed)
    neg_through = ends + 1 - pos_through
    return (packed[ends] >> 1) + offset, np.diff(pos_through, prepend=0), np.diff(neg_through, prepend=0)


def _group_ends(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Last index of each tie group of the sorted packed array, and the positives up to it."""
    keys = packed >> 1
    ends = np.flatnonzero(keys[1:] != keys[:-1])
    ends = np.concatenate((ends, [packed.size - 1]))
    return ends, np.cumsum(packed & 1)[ends]


def _positive_groups(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tie groups that hold a positive: first index, one past the last, positives before and through it."""
    ends, pos_through = _group_ends(packed)
    has = (packed[ends] & 1).nonzero()[0]  # a group's last element is a positive iff it holds one
    stop = ends[has] + 1
    start = np.zeros_like(stop)
    pos_before = np.zeros_like(stop)
    inner = has > 0
    start[inner] = ends[has[inner] - 1] + 1
    pos_before[inner] = pos_through[has[inner] - 1]
    return start, stop, pos_before, pos_through[has]


def _auroc_of_packed(packed: np.ndarray) -> float:
    # Σ_g pos_g · (2·negatives below + neg_g) = Σ_g pos_g · (negatives before g + negatives through g).
    start, stop, pos_before, pos_through = _positive_groups(packed)
    twice_pairs = int(np.dot(pos_through - pos_before, (start - pos_before) + (stop - pos_through)))
    num_pos = int(pos_through[-1])
    return twice_pairs / (2.0 * num_pos * (packed.size - num_pos))


def _average_precision_of_packed(packed: np.ndarray) -> float:
    # Σ_g pos_g · (P − positives before g) / (n − samples before g) / P over the groups holding positives.
    start, _, pos_before, pos_through = _positive_groups(packed)
    num_pos = int(pos_through[-1])
    precision = (num_pos - pos_before) / (packed.size - start)
    return float(np.dot(pos_through - pos_before, precision)) / num_pos


# Ties are corrected with binary searches (a few random reads each) when few; past this share of neighbours with
# equal keys, the linear passes of _positive_groups are cheaper.
_TIED_SHARE = 1 / 64
_TIE_SAMPLE = 1 << 16


def _many_ties(packed: np.ndarray) -> bool:
    """Whether more than ``_TIED_SHARE`` of neighbouring pairs share a key, from up to ``_TIE_SAMPLE`` pairs."""
    step = max(1, packed.size // _TIE_SAMPLE)
    right = np.arange(step, packed.size, step)
    if right.size == 0:
        return False
    return np.count_nonzero((packed[right] >> 1) == (packed[right - 1] >> 1)) > _TIED_SHARE * right.size


def _shortcut(
    scores: np.ndarray,
    target: np.ndarray,
    metric: str,
    from_groups: Callable[[np.ndarray, np.ndarray], float],
    of_packed: Callable[[np.ndarray], float],
) -> float | np.ndarray:
    """The value of ``metric`` when a grouped path gives it (the bucket pass, two-class sorting for keys that do not
    pack, or the tie-group pass on heavily tied keys); otherwise the packed sorted keys, for the direct pass."""
    groups = _bucket_groups(scores, target, metric)
    if groups is not None:
        return from_groups(*groups)
    packed = _packed(scores, target)
    if packed is None:
        return from_groups(*tie_groups(scores, target)[1:])
    if packed[0].size >= _BUCKET_MIN_SIZE and _many_ties(packed[0]):  # small inputs: the binary searches are cheap
        return of_packed(packed[0])
    return packed[0]


def exact_auroc(scores: np.ndarray, target: np.ndarray) -> float:
    """AUROC of one binary problem with both classes present (ties count ½)."""
    packed = _shortcut(scores, target, "auroc", auroc_from_groups, _auroc_of_packed)
    if isinstance(packed, float):
        return packed
    # Sorted with negatives first among ties, a positive at position i has i − (positives before it) negatives
    # scored below or tied with it. Tied pairs count ½, so subtract half of Σ pos_g·neg_g over the tie groups
    # holding both classes: those where a negative (2k) comes right before a positive (2k + 1).
    positions = (packed & 1).nonzero()[0]
    num_pos = positions.size
    values = packed[positions]
    mixed = (packed[np.maximum(positions - 1, 0)] == values - 1) & (positions > 0)  # first positive of its group
    twice_pairs = 2 * int(positions.sum()) - num_pos * (num_pos - 1)
    if mixed.any():
        first = positions[mixed]
        neg_tied = first - np.searchsorted(packed, values[mixed] - 1)
        pos_tied = np.searchsorted(values, values[mixed] + 1) - mixed.nonzero()[0]
        twice_pairs -= int(np.dot(neg_tied, pos_tied))
    return twice_pairs / (2.0 * num_pos * (scores.size - num_pos))


def exact_average_precision(scores: np.ndarray, target: np.ndarray) -> float:
    """Average precision of one binary problem with a positive present."""
    packed = _shortcut(scores, target, "ap", average_precision_from_groups, _average_precision_of_packed)
    if isinstance(packed, float):
        return packed
    # Each positive reads the precision of its tie group: (positives at or above the group) / (samples at or above
    # it). For the k-th positive (k from 0, increasing scores) at position i with no tie below it, that is
    # (P − k) / (n − i); a positive tied with the sample before it takes its group's first sample and positive.
    positions = (packed & 1).nonzero()[0]
    num_pos = positions.size
    values = packed[positions]
    tied = (packed[np.maximum(positions - 1, 0)] >= values - 1) & (positions > 0)  # the sample before: same key
    positives_above = num_pos - np.arange(num_pos)
    samples_above = packed.size - positions
    if tied.any():
        group = values[tied]
        positives_above[tied] = num_pos - np.searchsorted(values, group)
        samples_above[tied] = packed.size - np.searchsorted(packed, group - 1)
    return float(np.sum(positives_above / samples_above)) / num_pos


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if sorted_keys.size == 0:
        return sorted_keys, sorted_keys
    ends = np.concatenate((np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]), [sorted_keys.size - 1]))
    return sorted_keys[ends], np.diff(ends + 1, prepend=0)


def _merged_groups(pos_keys: np.ndarray, neg_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pos_vals, pos_counts = _runs(pos_keys)
    neg_vals, neg_counts = _runs(neg_keys)
    values = np.union1d(pos_vals, neg_vals)
    pos = np.zeros(values.size, np.int64)
    neg = np.zeros(values.size, np.int64)
    pos[np.searchsorted(values, pos_vals)] = pos_counts
    neg[np.searchsorted(values, neg_vals)] = neg_counts
    return values, pos, neg


def _refine_auroc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    # Pairs inside a one-class bucket are not scored by AUROC: such a bucket can stay whole.
    return (pos > 0) & (neg > 0)


def _refine_ap(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    # AP reads precision at each positive. In a bucket without positives nothing is read; in a bucket of positives
    # with no negative at or above it every precision is 1. Any other bucket with positives must be refined
    # (positives spread over several scores in it see different precisions), unless it holds a single element.
    neg_at_or_above = np.cumsum(neg[::-1])[::-1]
    return (pos > 0) & (neg_at_or_above > 0) & (pos + neg > 1)


REFINE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {"auroc": _refine_auroc, "ap": _refine_ap}


def _bucket_groups(scores: np.ndarray, target: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(pos, neg)`` of groups in increasing score order, for ``metric`` ("auroc" or "ap") only: a group may
    merge distinct scores that metric cannot tell apart. None when the bucket pass would not pay."""
    n = scores.size
    if n < _BUCKET_MIN_SIZE:
        return None
    num_pos = int(target.sum())
    num_buckets = min(1 << _MAX_LOG_BUCKETS, 2 * n)
    # Refined buckets are those holding a positive (AP) or the rarer class (AUROC), with about 1 + n/num_buckets
    # elements each: when that would be most of the input, one sort of everything is cheaper.
    flagged = num_pos if metric == "ap" else min(num_pos, n - num_pos)
    lo, hi = float(scores.min()), float(scores.max())
    if flagged * (1.0 + n / num_buckets) > 0.4 * n or not math.isfinite(hi - lo):
        return None
    scale = (num_buckets - 1) / (hi - lo) if hi > lo else 0.0
    bucket = _grid_bucket(scores, lo, scale)
    counts = np.bincount((bucket << 1) | target, minlength=2 * num_buckets).reshape(num_buckets, 2)
    neg, pos = counts[:, 0], counts[:, 1]
    refine = REFINE[metric](pos, neg)
    if int((pos + neg)[refine].sum()) > n // 2:
        return None
    picked = refine[bucket]
    if picked.any():
        sub_keys, sub_pos, sub_neg = tie_groups(scores[picked], target[picked])
        sub_bucket = _grid_bucket(scores_from_keys(sub_keys, scores.dtype), lo, scale)
    else:
        sub_pos = sub_neg = sub_bucket = np.zeros(0, np.int64)
    # Interleave in bucket order: a whole bucket stays one group, a refined bucket becomes its sub-groups.
    whole = ~refine & (pos + neg > 0)
    subs_per_bucket = np.bincount(sub_bucket, minlength=num_buckets)
    per_bucket = whole.astype(np.int64) + subs_per_bucket
    start = np.cumsum(per_bucket) - per_bucket
    out_pos = np.zeros(int(per_bucket.sum()), np.int64)
    out_neg = np.zeros_like(out_pos)
    out_pos[start[whole]] = pos[whole]
    out_neg[start[whole]] = neg[whole]
    first_sub = np.cumsum(subs_per_bucket) - subs_per_bucket
    at = start[sub_bucket] + np.arange(sub_bucket.size) - first_sub[sub_bucket]
    out_pos[at] = sub_pos
    out_neg[at] = sub_neg
    return out_pos, out_neg


def _grid_bucket(scores: np.ndarray, lo: float, scale: float) -> np.ndarray:
    # A uniform grid between min and max. float64 rounding is monotone, so the bucket never decreases with the
    # score and equal scores share one: every bucket is a contiguous run of the sorted scores.
    return ((scores.astype(np.float64) - lo) * scale).astype(np.int64)


# -- metrics from groups (increasing score order) ------------------------------------------------------------------
def _exact(x: Any) -> Any:
    """Integer counts as Python ints (exact), weighted sums as floats."""
    return int(x) if np.asarray(x).dtype.kind in "iu" else float(x)


def weighted_groups(scores: np.ndarray, target: np.ndarray,
                    weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups of tied scores in increasing order: ``(keys, pos, neg)`` with the summed ``sample_weight`` of the
    positives and negatives of each group (float64) in place of counts; groups of zero weight are left out."""
    keys = order_keys(scores)
    order = np.argsort(keys, kind="stable")
    keys, target, weight = keys[order], target[order], weight[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    positive = np.where(target == 1, weight, 0.0)
    pos = np.add.reduceat(positive, starts)
    neg = np.add.reduceat(weight, starts) - pos
    some = (pos + neg) > 0  # a threshold whose samples all weigh 0 is no threshold (as scikit-learn)
    return keys[starts][some], pos[some], neg[some]


def auroc_from_groups(pos: np.ndarray, neg: np.ndarray) -> float:
    """Σ over groups of pos·(negatives below + ½·negatives tied) / (P·N), with integer pair counts (float sums
    for weighted groups)."""
    neg_below = np.cumsum(neg) - neg
    twice_pairs = _exact(np.dot(pos, 2 * neg_below + neg))
    return twice_pairs / (2.0 * float(pos.sum()) * float(neg.sum()))


def average_precision_from_groups(pos: np.ndarray, neg: np.ndarray) -> float:
    """Σ over groups of pos/P · precision at that group's threshold (step-wise, no interpolation)."""
    total_pos, total_neg = _exact(pos.sum()), _exact(neg.sum())
    tps = total_pos - (np.cumsum(pos) - pos)  # positives scored at or above the group
    fps = total_neg - (np.cumsum(neg) - neg)
    has = pos > 0
    return float(np.sum(pos[has] * (tps[has] / (tps[has] + fps[has])))) / total_pos


def roc_curve_from_groups(
    values: np.ndarray, pos: np.ndarray, neg: np.ndarray, drop_intermediate: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) with decreasing thresholds, the first being +inf (the point (0, 0))."""
    tps = np.cumsum(pos[::-1])
    fps = np.cumsum(neg[::-1])
    thresholds = values[::-1].astype(np.float64)
    if drop_intermediate and tps.size > 2:  # drop points on a straight segment (as scikit-learn does)
        keep = np.r_[True, (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0), True]
        tps, fps, thresholds = tps[keep], fps[keep], thresholds[keep]
    tps, fps = np.r_[0, tps], np.r_[0, fps]
    return fps / fps[-1], tps / tps[-1], np.r_[np.inf, thresholds]


def pr_curve_from_groups(
    values: np.ndarray, pos: np.ndarray, neg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds): increasing thresholds, then the point (precision 1, recall 0) appended."""
    tps = np.cumsum(pos[::-1])[::-1]
    fps = np.cumsum(neg[::-1])[::-1]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros(tps.size), where=predicted > 0)
    return np.r_[precision, 1.0], np.r_[tps / tps[0], 0.0], values.astype(np.float64)


# -- binned kernel -------------------------------------------------------------------------------------------------
_HALF = int(np.float32(0.5).view(np.int32))
_FLOOR = int(np.float32(2.0**-24).view(np.int32))  # below 2^-24 (and above 1 - 2^-24) scores share the end bins
_U_LOW, _U_HIGH = _FLOOR, 2 * _HALF - _FLOOR


def _symmetric_keys(probs: np.ndarray) -> np.ndarray:
    """Order-preserving key of float32 probabilities that resolves 0 and 1 alike: bits of p, or mirrored of 1 − p.

    For p ≥ ½ the float32 subtraction 1 − p is exact (Sterbenz), so the map is monotone and invertible.
    """
    p = probs.astype(np.float32, copy=False)
    low = p < 0.5
    u = np.where(low, p, np.float32(1.0) - p).view(np.int32).astype(np.int64)
    np.subtract(2 * _HALF, u, out=u, where=~low)
    return np.clip(u, _U_LOW, _U_HIGH)


def bin_index(probs: np.ndarray, bins: int) -> np.ndarray:
    """Fixed bin of each probability in [0, 1], in 0..bins−1, non-decreasing in the probability."""
    return ((_symmetric_keys(probs) - _U_LOW) * bins) // (_U_HIGH - _U_LOW + 1)


def bin_lower_edges(bins: int) -> np.ndarray:
    """The smallest probability of each bin (bin 0 starts at 0), float64."""
    span = _U_HIGH - _U_LOW + 1
    u = _U_LOW + (np.arange(bins, dtype=np.int64) * span + bins - 1) // bins  # smallest u with bin_index == b
    low = u <= _HALF
    value = np.where(low, u, 2 * _HALF - u).astype(np.int32).view(np.float32).astype(np.float64)
    # Above ½ the bin starts at the smallest float32 p with 1 − p ≤ value: 1 − value (exact in float64) rounded up.
    upper = (1.0 - value).astype(np.float32)
    upper = np.where(upper < 1.0 - value, np.nextafter(upper, np.float32(2.0)), upper).astype(np.float64)
    edges = np.where(low, value, upper)
    edges[0] = 0.0
    return edges


def binned_error_bounds(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """Worst-case |binned − exact| of AUROC and of AP from per-bin counts (bins in increasing score order).

    AUROC: only the pairs inside one bin have an unknown order; each is scored ½ and is worth 0 or 1 (or ½ if
    tied), so the error is at most ½·Σ_b pos_b·neg_b / (P·N).
    AP: a positive of bin b sits, in the exact ranking, at a threshold that has between T_{b−1}+1 and T_b
    positives and between F_{b−1} and F_b negatives at or above it (T, F: counts at or above bin b, and b−1 the
    bin just above), so its precision lies in [(T_{b−1}+1)/(T_{b−1}+1+F_b), T_b/(T_b+F_{b−1})]; the binned value
    uses T_b/(T_b+F_b), inside that interval. The error is at most Σ_b pos_b/P · (the larger distance to an end).
    """
    total_pos, total_neg = float(pos.sum()), float(neg.sum())
    auroc_bound = 0.5 * float(np.dot(pos, neg)) / (total_pos * total_neg)
    t = np.cumsum(pos[::-1])[::-1].astype(np.float64)  # at or above bin b
    f = np.cumsum(neg[::-1])[::-1].astype(np.float64)
    t_above, f_above = t - pos, f - neg
    has = pos > 0
    value = t[has] / (t[has] + f[has])
    high = t[has] / (t[has] + f_above[has])
    low = (t_above[has] + 1) / (t_above[has] + 1 + f[has])
    ap_bound = float(np.sum(pos[has] * np.maximum(high - value, value - low))) / total_pos
    return auroc_bound, ap_bound
