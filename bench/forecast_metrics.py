"""Pure metric functions of the forecast-accuracy benchmark (numpy only).

Conventions: arrays are float64 with NaN for "no value"; rows are cases (one
series at one origin), columns steps ahead. A NaN actual value is left out of
every forecast metric and is never a bad slice. Each function says what it does
with NaN predictions.
"""

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Ints = NDArray[np.intp]


def abs_errors(actual: Floats, predicted: Floats) -> Floats:
    """``|actual - predicted|`` elementwise, NaN where either is NaN."""
    diff = np.asarray(actual, np.float64) - np.asarray(predicted, np.float64)
    return np.asarray(np.abs(diff), np.float64)


def group_means(values: Floats, groups: Ints, count: int) -> Floats:
    """Mean of the non-NaN ``values`` of each group ``0..count-1`` (NaN if none).

    ``values`` has one row per entry of ``groups``; any further axes are pooled.
    """
    flat = np.asarray(values, float).reshape(len(groups), -1)
    finite = ~np.isnan(flat)
    sums = np.bincount(groups, np.where(finite, flat, 0.0).sum(axis=1), count)
    counts = np.bincount(groups, finite.sum(axis=1), count)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def geometric_mean(ratios: Floats) -> float:
    """Geometric mean of the finite, positive ratios (NaN when there are none).

    With ratios of MAE to the naive MAE per series this is AvgRelMAE
    (Davydenko & Fildes, 2013).
    """
    r = np.asarray(ratios, float)
    r = r[np.isfinite(r) & (r > 0)]
    return float(np.exp(np.log(r).mean())) if r.size else math.nan


def row_means(values: Floats) -> Floats:
    """Mean of the non-NaN values of each row (NaN for a row with none)."""
    v = np.asarray(values, float).reshape(len(values), -1)
    finite = ~np.isnan(v)
    counts = finite.sum(axis=1)
    sums = np.where(finite, v, 0.0).sum(axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def mean_or_nan(values: Floats) -> float:
    """Mean of the non-NaN values (NaN when there are none)."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else math.nan


def naive_scale(history: Floats) -> Floats:
    """In-sample MAE of the one-step naive forecast of each history row.

    Steps next to a NaN are left out; a row with no pair gives NaN.
    """
    return row_means(np.abs(np.diff(np.asarray(history, float), axis=1)))


def mase(actual: Floats, predicted: Floats, scale: Floats) -> Floats:
    """Per case: mean absolute error over the horizon divided by ``scale``.

    NaN when the scale is zero or NaN, or no step has both values.
    """
    mae = row_means(abs_errors(actual, predicted))
    s = np.asarray(scale, float)
    return np.where(s > 0, mae / np.where(s > 0, s, 1.0), np.nan)


def inside(actual: Floats, lower: Floats, upper: Floats) -> Floats:
    """1.0 where ``lower <= actual <= upper``, 0.0 outside, NaN where unknown."""
    a = np.asarray(actual, float)
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    hit = ((a >= lo) & (a <= hi)).astype(float)
    return np.where(np.isnan(a) | np.isnan(lo) | np.isnan(hi), np.nan, hit)


def pinball(actual: Floats, quantile: Floats, tau: float) -> Floats:
    """Quantile (pinball) loss of a predicted ``tau``-quantile, elementwise.

    ``tau * (y - q)`` when ``y >= q``, else ``(1 - tau) * (q - y)``.
    """
    diff = np.asarray(actual, float) - np.asarray(quantile, float)
    return np.asarray(np.where(diff >= 0, tau * diff, (tau - 1.0) * diff), np.float64)


def bad_within_horizon(
    actual: Floats, lower: Floats, upper: Floats
) -> tuple[Bools, Ints]:
    """Whether some future value lies strictly outside ``[lower, upper]``.

    A value on a bound is good; a NaN bound is open; a NaN value is not bad.

    Returns:
        ``(event, first)``: per case the event, and the 1-based step of the
        first bad value (0 when there is none).
    """
    a = np.asarray(actual, float)
    lo = np.asarray(lower, float)[:, None]
    hi = np.asarray(upper, float)[:, None]
    with np.errstate(invalid="ignore"):
        bad = (~np.isnan(hi) & (a > hi)) | (~np.isnan(lo) & (a < lo))
    event = bad.any(axis=1)
    first = np.where(event, bad.argmax(axis=1) + 1, 0)
    return event, first.astype(np.intp)


def history_event_rate(
    history: Floats, lower: Floats, upper: Floats, horizon: int
) -> Floats:
    """Climatology: the share of a history's own origins followed by a bad value.

    For each row, every step ``t`` with ``horizon`` steps after it inside the
    history is an origin; its event is "some value in ``t+1..t+horizon`` lies
    outside ``[lower, upper]``" (same rules as ``bad_within_horizon``).
    """
    h = np.asarray(history, float)
    lo = np.asarray(lower, float)[:, None]
    hi = np.asarray(upper, float)[:, None]
    with np.errstate(invalid="ignore"):
        bad = ((~np.isnan(hi) & (h > hi)) | (~np.isnan(lo) & (h < lo))).astype(int)
    csum = np.concatenate([np.zeros((h.shape[0], 1), int), bad.cumsum(axis=1)], 1)
    windows = csum[:, 1 + horizon :] - csum[:, 1:-horizon]
    return np.asarray((windows > 0).mean(axis=1), float)


def brier(probability: Floats, event: Bools) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    p = np.asarray(probability, float)
    return float(np.mean((p - np.asarray(event, float)) ** 2))


def brier_skill(score: float, reference: float) -> float:
    """``1 - score / reference`` (NaN when the reference is 0)."""
    return 1.0 - score / reference if reference > 0 else math.nan


@dataclass(frozen=True)
class Classification:
    """Counts and rates of yes/no answers against 0/1 outcomes."""

    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int

    @property
    def precision(self) -> float:
        """Share of "yes" that came true (NaN with no "yes")."""
        said = self.true_pos + self.false_pos
        return self.true_pos / said if said else math.nan

    @property
    def recall(self) -> float:
        """Share of events answered "yes" (NaN with no event)."""
        events = self.true_pos + self.false_neg
        return self.true_pos / events if events else math.nan

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0 when nothing was caught)."""
        denominator = 2 * self.true_pos + self.false_pos + self.false_neg
        return 2 * self.true_pos / denominator if denominator else math.nan

    @property
    def false_alarm_rate(self) -> float:
        """Share of "yes" among the cases without an event."""
        quiet = self.false_pos + self.true_neg
        return self.false_pos / quiet if quiet else math.nan


def classify(yes: Bools, event: Bools) -> Classification:
    """The confusion counts of ``yes`` against ``event``."""
    y, e = np.asarray(yes, bool), np.asarray(event, bool)
    return Classification(
        true_pos=int((y & e).sum()),
        false_pos=int((y & ~e).sum()),
        false_neg=int((~y & e).sum()),
        true_neg=int((~y & ~e).sum()),
    )


def onsets(last: Floats, lower: Floats, upper: Floats, event: Bools) -> Bools:
    """Cases whose last observed value is inside the range and that turn bad.

    A NaN last value is not inside; bounds as in ``bad_within_horizon``.
    """
    v = np.asarray(last, float)
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    with np.errstate(invalid="ignore"):
        out_of_range = (~np.isnan(hi) & (v > hi)) | (~np.isnan(lo) & (v < lo))
    return np.asarray(~np.isnan(v) & ~out_of_range & np.asarray(event, bool), bool)


def eta_errors(predicted_slice: Ints, first_bad_step: Ints, caught: Bools) -> Floats:
    """``|predicted slice - actual first bad slice|`` in steps, for caught cases.

    ``predicted_slice`` is 0-based (slice 0 holds step 1); ``first_bad_step``
    is 1-based as returned by ``bad_within_horizon``.
    """
    mask = np.asarray(caught, bool)
    diff = np.asarray(predicted_slice)[mask] - (np.asarray(first_bad_step)[mask] - 1)
    return np.asarray(np.abs(diff), np.float64)


@dataclass(frozen=True)
class ReliabilityBin:
    """One probability bin ``[low, high)`` (the last one includes 1.0)."""

    low: float
    high: float
    count: int
    share: float
    mean_probability: float
    observed: float

    @property
    def gap(self) -> float:
        """``|observed frequency - mean probability|`` (NaN when empty)."""
        return abs(self.observed - self.mean_probability)


def reliability(
    probability: Floats, event: Bools, bins: int = 10
) -> list[ReliabilityBin]:
    """Probabilities binned in ``bins`` equal bins against observed frequency."""
    p = np.asarray(probability, float)
    e = np.asarray(event, float)
    index = np.minimum((np.clip(p, 0.0, 1.0) * bins).astype(int), bins - 1)
    total = len(p)
    rows = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        rows.append(
            ReliabilityBin(
                low=b / bins,
                high=(b + 1) / bins,
                count=n,
                share=n / total if total else math.nan,
                mean_probability=float(p[mask].mean()) if n else math.nan,
                observed=float(e[mask].mean()) if n else math.nan,
            )
        )
    return rows


def worst_reliability_gap(rows: list[ReliabilityBin], min_share: float) -> float:
    """Largest gap over the bins holding at least ``min_share`` of the cases."""
    gaps = [r.gap for r in rows if r.count and r.share >= min_share]
    return max(gaps) if gaps else math.nan
