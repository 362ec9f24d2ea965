"""Predictions: excursions and the remaining budget over the forecast horizon."""

import bisect
import math
from collections.abc import Sequence

import attrs

from monitoring_core.forecasts import ForecastPoint
from monitoring_core.slo.kinds import SIDE_OF_STATE, ObjectiveKind, Side, SliceState
from monitoring_core.slo.probabilities import cumulative_by_slice, worst_by_slice
from monitoring_core.slo.slices import Slice
from monitoring_core.slo.window import check_share


@attrs.frozen(kw_only=True)
class PredictedSlice:
    """One future slice ``[start, end)`` as the forecast sees it.

    Attributes:
        start, end: epoch seconds.
        probability: ``P(x < lo) + P(x > hi)`` for the slice's worst forecast
            point (the one with the highest probability).
        cumulative_probability: the probability that some predicted slice up
            to and including this one is bad (``probabilities.cumulative_by_slice``).
        mean, lower, upper: that point's forecast and 95 % interval.
        side: the likelier side when the probability is positive, else None.
        projected_budget_remaining: remaining budget of the rolling window that
            ends at this slice's end, counting the expected bad slices so far;
            None when that window has no measured slice (or T = 1).
    """

    start: float
    end: float
    probability: float
    mean: float
    lower: float
    upper: float
    side: Side | None
    projected_budget_remaining: float | None
    cumulative_probability: float = 0.0


ETA_THRESHOLD = 1 / 3
"""The ETA is the first slice by which a bad slice is at least this likely.

One chance in three: about twice the usual rate of a bad slice within ten
minutes on the public series (10-17 % for ranges at the history's 1st and 99th
percentiles), where calibrated probabilities trade false alarms (under 10 %)
against caught onsets best (docs/forecasting.md, ADR 0040).
"""


@attrs.frozen(kw_only=True)
class Prediction:
    """Predicted excursions over the forecast horizon.

    Attributes:
        slices: the future slices that hold a forecast point, oldest first.
        method: how the probabilities were obtained.
        level: the interval level the spread was read from.
    """

    slices: tuple[PredictedSlice, ...]
    method: str = "normal approximation from the forecast's 95 % interval"
    level: float = 0.95

    @property
    def eta(self) -> PredictedSlice | None:
        """The first slice by which some slice is more likely bad than not.

        That is, whose cumulative probability reaches ``ETA_THRESHOLD``.
        """
        return next(
            (s for s in self.slices if s.cumulative_probability >= ETA_THRESHOLD),
            None,
        )

    @property
    def within_horizon(self) -> float:
        """The probability of at least one bad slice over the predicted slices."""
        return self.slices[-1].cumulative_probability if self.slices else 0.0

    @property
    def expected_bad_slices(self) -> float:
        """Sum of the slice probabilities."""
        return math.fsum(s.probability for s in self.slices)

    @property
    def projected_budget_remaining(self) -> float | None:
        """The last slice's projected remaining budget."""
        return self.slices[-1].projected_budget_remaining if self.slices else None

    @property
    def breach_at(self) -> float | None:
        """Start of the first slice whose projected budget is below zero."""
        for s in self.slices:
            remaining = s.projected_budget_remaining
            if remaining is not None and remaining < 0:
                return s.start
        return None

    @property
    def breach_predicted(self) -> bool:
        """Whether the budget is projected to run out within the horizon."""
        return self.breach_at is not None


class _PastWindow:
    """Bad and measured counts of past slices starting at or after a time."""

    def __init__(self, past: Sequence[Slice], now: float) -> None:
        rows = sorted((s for s in past if s.start < now), key=lambda s: s.start)
        self.starts = [s.start for s in rows]
        self.bad = [0]
        self.measured = [0]
        for s in rows:
            self.bad.append(self.bad[-1] + (s.state in SIDE_OF_STATE))
            self.measured.append(
                self.measured[-1] + (s.state is not SliceState.UNMEASURED)
            )

    def since(self, lower: float) -> tuple[int, int]:
        """``(bad, measured)`` over the past slices with ``start >= lower``."""
        i = bisect.bisect_left(self.starts, lower)
        return self.bad[-1] - self.bad[i], self.measured[-1] - self.measured[i]


def _remaining(bad: float, measured: float, target: float) -> float | None:
    budget = (1.0 - target) * measured
    if budget <= 0:
        return None
    return 1.0 - bad / budget


def predict(
    points: Sequence[ForecastPoint],
    kind: ObjectiveKind,
    now: float,
    horizon_seconds: int,
    slice_seconds: int,
    past: Sequence[Slice],
    window_seconds: int,
    target: float,
    floor: float | None = None,
) -> Prediction:
    """Predict excursions and the remaining budget over the forecast horizon.

    A calibrated forecast's points are read as the distributions their
    quantiles give; other points are taken as normal with ``sigma = (upper_95 -
    lower_95) / (2 · 1.96)``; a zero sigma is deterministic (``probabilities``).
    For a series that cannot go below ``floor`` nothing lies below the floor.
    Future slice ``k`` covers ``[now + kΔ, now + (k+1)Δ)`` and holds the
    forecast points in ``(now, now + horizon]`` with timestamps in it, as a
    slice holds the samples it is judged on (so a fresh forecast, whose first
    point is one step after ``now``, leaves slice 0 out when its step is Δ,
    and predicts slices 1 to horizon / Δ); its probability is that of its
    worst point, and its cumulative probability that of some bad slice up to
    it (from the running max and min when given). Slices without a point are left
    out, also from the projected budget (like unmeasured slices): slice ``k``'s
    rolling window holds the past slices with ``start >= end_k - W`` and
    ``start < now`` plus the kept future slices up to ``k`` that start inside the
    window, each future slice counting as measured and as ``p`` bad slices.

    Args:
        points: the forecast; points at or before ``now`` and NaN means are ignored.
        kind: the objective kind (its bounds and distance are used).
        now: start of the first future slice, aligned to Δ by the caller.
        horizon_seconds: how far ahead to predict.
        slice_seconds: the slice length Δ.
        past: judged slices before ``now``.
        window_seconds: the compliance window W.
        target: the target T, in [0, 1].
        floor: the lowest value the series can take (ADR 0017); None: any.

    Returns:
        The prediction.

    Raises:
        ValueError: for a non-positive Δ or W, a negative horizon or a target
            outside [0, 1].
    """
    check_share("target", target)
    if slice_seconds <= 0 or window_seconds <= 0 or horizon_seconds < 0:
        raise ValueError(
            "slice and window lengths must be positive and the horizon not "
            f"negative: {slice_seconds}, {window_seconds}, {horizon_seconds}"
        )
    worst = worst_by_slice(points, kind, now, horizon_seconds, slice_seconds, floor)
    cumulative = cumulative_by_slice(points, kind, now, worst, slice_seconds, floor)
    calibrated = any(p.running_max is not None for p in points)
    history = _PastWindow(past, now)
    kept = sorted(worst)
    starts = [now + k * slice_seconds for k in kept]
    expected = [0.0]
    for k in kept:
        expected.append(expected[-1] + worst[k].probability)
    result: list[PredictedSlice] = []
    for m, k in enumerate(kept):
        end = starts[m] + slice_seconds
        lower = end - window_seconds
        past_bad, past_measured = history.since(lower)
        j = bisect.bisect_left(starts, lower, hi=m + 1)
        bad = past_bad + expected[m + 1] - expected[j]
        measured = past_measured + (m + 1 - j)
        w = worst[k]
        result.append(
            PredictedSlice(
                start=starts[m],
                end=end,
                probability=w.probability,
                mean=w.point.mean,
                lower=w.point.lower_95,
                upper=w.point.upper_95,
                side=w.side,
                projected_budget_remaining=_remaining(bad, measured, target),
                cumulative_probability=cumulative[k],
            )
        )
    if calibrated:
        return Prediction(slices=tuple(result), method=CALIBRATED_METHOD)
    return Prediction(slices=tuple(result))


CALIBRATED_METHOD = (
    "empirical quantiles of the series' rolling forecast errors (ADR 0040)"
)
