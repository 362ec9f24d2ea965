"""Time-slice SLO mathematics: slices, violation episodes, budgets and predictions.

Vocabulary (kept apart on purpose):

* **excursion**: one bad slice, ``above`` (judged on the slice's maximum) or
  ``below`` (judged on its minimum) the allowed range.
* **violation episode**: a maximal run of bad slices of the same side.
* **SLO breach**: the SLI (good / measured slices) fell below the target over the
  window, i.e. the error budget is exhausted.

Slices. The range ``[start, end)`` is cut into slices ``[start + kΔ, start +
(k+1)Δ)``. A slice without a (non-NaN) sample is ``unmeasured`` and leaves the
denominator; it is reported as coverage instead. A slice whose maximum is above
``hi`` and whose minimum is below ``lo`` takes the side with the larger distance
from its bound (``above`` on a tie).

Episode rules:

* An episode is a maximal run of bad slices of one side; ``start`` is the start of
  its first bad slice and ``end`` the end of its last bad slice.
* Unmeasured slices between two bad slices of the same side are bridged: they lie
  inside the duration and are counted in ``unmeasured_slices``.
* A good slice, or a bad slice of the other side, ends the episode (the other side
  starts a new one).
* Unmeasured slices after the last bad slice never extend ``end``; the episode
  stays ``open`` when no good or other-side slice follows it before the end of the
  evaluated range (it is not known to be over).
* The worst value is the largest maximum of an ``above`` episode and the smallest
  minimum of a ``below`` one; its distance is measured from the violated bound.

Window reports. An empty slice sequence gives a report of zeros with
``start = end = 0`` (coverage 0, so ``insufficient_data`` unless the floor is 0).
Coverage below the floor only because the history began inside the window (the
slices from the first measured one on reach the floor) is ``warming_up``.
A target of exactly 1 leaves no budget: budget consumption, remaining budget and
burn rate are None then.

Predictions use a normal approximation of each forecast point, with the standard
deviation read off its 95 % interval; a zero-width interval is deterministic. For
a series that cannot go below a floor (ADR 0017), a point clamped there is read
from its upper bounds and nothing is predicted below the floor.
"""

import bisect
import math
from collections.abc import Iterable, Sequence
from enum import StrEnum

import attrs

from monitoring_core.forecasts import ForecastPoint

# Two-sided 95 % and 80 % quantiles of the standard normal distribution.
_Z95 = 1.959963984540054
_Z80 = 1.2815515655446004
_SQRT2 = math.sqrt(2.0)


class Side(StrEnum):
    """Which bound of the allowed range a value violates."""

    ABOVE = "above"
    BELOW = "below"


class SliceState(StrEnum):
    """The judgement of one time slice."""

    GOOD = "good"
    ABOVE = "above"
    BELOW = "below"
    UNMEASURED = "unmeasured"


class Status(StrEnum):
    """The overall status of an objective."""

    OK = "ok"
    AT_RISK = "at_risk"
    VIOLATING = "violating"
    INSUFFICIENT_DATA = "insufficient_data"
    WARMING_UP = "warming_up"


_SIDE_OF_STATE = {SliceState.ABOVE: Side.ABOVE, SliceState.BELOW: Side.BELOW}
_STATUS_RANK = {
    Status.OK: 0,
    Status.WARMING_UP: 1,
    Status.INSUFFICIENT_DATA: 2,
    Status.AT_RISK: 3,
    Status.VIOLATING: 4,
}


@attrs.frozen
class AllowedRange:
    """The range ``[lo, hi]`` a series should stay in; either bound may be open.

    The bounds themselves are good. No validation happens here: the caller makes
    sure that the bounds are finite, ``lo <= hi`` and at least one is given.
    """

    lo: float | None = None
    hi: float | None = None

    def side_of(self, value: float) -> Side | None:
        """The violated side, or None when the value is inside (or NaN)."""
        if self.hi is not None and value > self.hi:
            return Side.ABOVE
        if self.lo is not None and value < self.lo:
            return Side.BELOW
        return None

    def distance(self, value: float) -> float:
        """How far the value lies outside the range; 0.0 inside."""
        if self.hi is not None and value > self.hi:
            return value - self.hi
        if self.lo is not None and value < self.lo:
            return self.lo - value
        return 0.0


@attrs.frozen(kw_only=True)
class Slice:
    """One judged time slice ``[start, end)`` of one series.

    Attributes:
        start, end: epoch seconds.
        state: good, above, below or unmeasured.
        minimum, maximum: extremes of the slice's samples; None when unmeasured.
        samples: number of samples in the slice.
    """

    start: float
    end: float
    state: SliceState
    minimum: float | None
    maximum: float | None
    samples: int


def _judge(minimum: float, maximum: float, allowed: AllowedRange) -> SliceState:
    above = allowed.hi is not None and maximum > allowed.hi
    below = allowed.lo is not None and minimum < allowed.lo
    if above and below:
        if allowed.distance(maximum) >= allowed.distance(minimum):
            return SliceState.ABOVE
        return SliceState.BELOW
    if above:
        return SliceState.ABOVE
    if below:
        return SliceState.BELOW
    return SliceState.GOOD


def slice_samples(
    samples: Sequence[tuple[float, float]],
    start: float,
    end: float,
    slice_seconds: int,
    allowed: AllowedRange,
) -> tuple[Slice, ...]:
    """Cut ``[start, end)`` into slices and judge each one.

    A sample ``(t, v)`` belongs to slice ``floor((t - start) / Δ)``. Samples
    outside ``[start, end)`` and NaN values are ignored. One pass over the
    samples, which may come in any order.

    Args:
        samples: ``(timestamp, value)`` pairs.
        start: left edge of the first slice (epoch seconds).
        end: right edge of the last slice.
        slice_seconds: the slice length Δ.
        allowed: the allowed range.

    Returns:
        The slices, oldest first.

    Raises:
        ValueError: when Δ is not positive or ``end - start`` is not a positive
            multiple of it.
    """
    if slice_seconds <= 0:
        raise ValueError(f"slice_seconds must be positive, not {slice_seconds}")
    count, rest = divmod(end - start, slice_seconds)
    if not count > 0 or rest != 0:
        raise ValueError(
            f"the range [{start}, {end}) is not a positive multiple of "
            f"{slice_seconds} s"
        )
    n = int(count)
    lows: list[float] = [math.inf] * n
    highs: list[float] = [-math.inf] * n
    counts = [0] * n
    for t, v in samples:
        if not start <= t < end or math.isnan(v):
            continue
        k = min(int((t - start) // slice_seconds), n - 1)
        counts[k] += 1
        lows[k] = min(lows[k], v)
        highs[k] = max(highs[k], v)
    return tuple(
        _make_slice(
            start + k * slice_seconds, slice_seconds, lows[k], highs[k], c, allowed
        )
        for k, c in enumerate(counts)
    )


def _make_slice(
    left: float,
    slice_seconds: int,
    low: float,
    high: float,
    samples: int,
    allowed: AllowedRange,
) -> Slice:
    if samples == 0:
        return Slice(
            start=left,
            end=left + slice_seconds,
            state=SliceState.UNMEASURED,
            minimum=None,
            maximum=None,
            samples=0,
        )
    return Slice(
        start=left,
        end=left + slice_seconds,
        state=_judge(low, high, allowed),
        minimum=low,
        maximum=high,
        samples=samples,
    )


@attrs.frozen(kw_only=True)
class Episode:
    """A violation episode: a maximal run of bad slices of one side.

    Attributes:
        side: above or below.
        start: start of its first bad slice.
        end: end of its last bad slice.
        open: still unresolved at the end of the evaluated range.
        bad_slices: number of bad slices (excursions) in it.
        unmeasured_slices: gaps bridged inside the episode.
        worst_value: the largest maximum (above) or smallest minimum (below).
        worst_distance: distance of ``worst_value`` from the violated bound.
    """

    side: Side
    start: float
    end: float
    open: bool
    bad_slices: int
    unmeasured_slices: int
    worst_value: float
    worst_distance: float

    @property
    def duration_seconds(self) -> float:
        """From the start of the first bad slice to the end of the last one."""
        return self.end - self.start


def _extreme(piece: Slice, side: Side) -> float:
    value = piece.maximum if side is Side.ABOVE else piece.minimum
    if value is None:
        raise ValueError(f"a {side} slice at {piece.start} has no {side} extreme")
    return value


@attrs.define
class _Run:
    """An episode being built."""

    side: Side
    start: float
    end: float
    worst_value: float
    worst_distance: float
    bad: int = 1
    bridged: int = 0
    pending: int = 0

    def extend(self, piece: Slice, value: float, distance: float) -> None:
        self.end = piece.end
        self.bad += 1
        self.bridged += self.pending
        self.pending = 0
        worse = (
            value > self.worst_value
            if self.side is Side.ABOVE
            else (value < self.worst_value)
        )
        if worse:
            self.worst_value, self.worst_distance = value, distance

    def close(self, *, still_open: bool) -> Episode:
        return Episode(
            side=self.side,
            start=self.start,
            end=self.end,
            open=still_open,
            bad_slices=self.bad,
            unmeasured_slices=self.bridged,
            worst_value=self.worst_value,
            worst_distance=self.worst_distance,
        )


def find_episodes(
    slices: Sequence[Slice], allowed: AllowedRange
) -> tuple[Episode, ...]:
    """Group consecutive bad slices into violation episodes (rules: module doc).

    Args:
        slices: consecutive slices, oldest first, as from :func:`slice_samples`.
        allowed: the range the slices were judged against (for distances).

    Returns:
        The episodes, oldest first; only the last one can be open.

    Raises:
        ValueError: when a bad slice lacks the extreme it was judged on.
    """
    episodes: list[Episode] = []
    run: _Run | None = None
    for piece in slices:
        side = _SIDE_OF_STATE.get(piece.state)
        if side is None:
            if run is not None and piece.state is SliceState.GOOD:
                episodes.append(run.close(still_open=False))
                run = None
            elif run is not None:
                run.pending += 1
            continue
        value = _extreme(piece, side)
        distance = allowed.distance(value)
        if run is not None and run.side is side:
            run.extend(piece, value, distance)
            continue
        if run is not None:
            episodes.append(run.close(still_open=False))
        run = _Run(
            side=side,
            start=piece.start,
            end=piece.end,
            worst_value=value,
            worst_distance=distance,
        )
    if run is not None:
        episodes.append(run.close(still_open=True))
    return tuple(episodes)


@attrs.frozen(kw_only=True)
class WindowReport:
    """Time-slice SLO figures of one series over one compliance window.

    Attributes:
        start, end: the window (epoch seconds).
        slice_seconds: the slice length Δ.
        target: the required share of good slices T.
        coverage_floor: below this share of measured slices the data is
            insufficient.
        total_slices, good_slices, above_slices, below_slices, unmeasured_slices:
            slice counts.
        episodes: the violation episodes, oldest first.
        leading_unmeasured_slices: unmeasured slices before the first measured
            one (all of them when nothing was measured).
    """

    start: float
    end: float
    slice_seconds: int
    target: float
    coverage_floor: float
    total_slices: int
    good_slices: int
    above_slices: int
    below_slices: int
    unmeasured_slices: int
    episodes: tuple[Episode, ...]
    leading_unmeasured_slices: int = 0

    @property
    def window_seconds(self) -> float:
        """Length of the window."""
        return self.end - self.start

    @property
    def measured_slices(self) -> int:
        """Slices with at least one sample (good or bad)."""
        return self.good_slices + self.bad_slices

    @property
    def bad_slices(self) -> int:
        """Bad slices of either side."""
        return self.above_slices + self.below_slices

    @property
    def excursions(self) -> int:
        """Same as :attr:`bad_slices`: one excursion is one bad slice."""
        return self.bad_slices

    @property
    def coverage(self) -> float:
        """Share of measured slices; 0 for an empty window."""
        if self.total_slices == 0:
            return 0.0
        return self.measured_slices / self.total_slices

    @property
    def sli(self) -> float | None:
        """Good / measured slices; None when nothing was measured."""
        if self.measured_slices == 0:
            return None
        return self.good_slices / self.measured_slices

    @property
    def gap(self) -> float | None:
        """SLI minus target (negative: below target)."""
        sli = self.sli
        return None if sli is None else sli - self.target

    @property
    def budget_slices(self) -> float:
        """The error budget ``(1 - T) · measured`` in slices."""
        return (1.0 - self.target) * self.measured_slices

    @property
    def budget_minutes(self) -> float:
        """The error budget in minutes."""
        return self.budget_slices * self.slice_seconds / 60.0

    @property
    def budget_consumed(self) -> float | None:
        """Share of the budget spent (above 1 when overspent); None without one."""
        budget = self.budget_slices
        if budget <= 0:
            return None
        return self.bad_slices / budget

    @property
    def budget_remaining(self) -> float | None:
        """``1 - consumed``; negative when overspent, None without a budget."""
        consumed = self.budget_consumed
        return None if consumed is None else 1.0 - consumed

    @property
    def budget_remaining_minutes(self) -> float:
        """Budget left in minutes; negative when overspent."""
        return (self.budget_slices - self.bad_slices) * self.slice_seconds / 60.0

    @property
    def burn_rate(self) -> float | None:
        """``bad fraction / (1 - T)``; None when nothing was measured or T = 1."""
        if self.measured_slices == 0 or self.target >= 1.0:
            return None
        return (self.bad_slices / self.measured_slices) / (1.0 - self.target)

    @property
    def worst_episode(self) -> Episode | None:
        """The episode farthest from its bound (the earliest on a tie)."""
        if not self.episodes:
            return None
        return max(self.episodes, key=lambda e: e.worst_distance)

    @property
    def breached(self) -> bool:
        """Whether the SLI is below the target: an SLO breach."""
        sli = self.sli
        return sli is not None and sli < self.target

    @property
    def insufficient_data(self) -> bool:
        """Whether coverage is below the floor."""
        return self.coverage < self.coverage_floor

    @property
    def warming_up(self) -> bool:
        """Whether the data is insufficient only because the history is young.

        True when coverage is below the floor but the slices from the first
        measured one on reach it: the series began inside the window (a new
        Prometheus, a new machine) rather than stopped or went patchy.
        """
        since_first = self.total_slices - self.leading_unmeasured_slices
        return (
            self.insufficient_data
            and self.measured_slices > 0
            and self.measured_slices >= self.coverage_floor * since_first
        )

    @property
    def breach_certain(self) -> bool:
        """Whether the bad slices already exceed the budget of a full window.

        Then the SLI is below the target whatever the unmeasured slices turn
        out to be, so a young history can already be judged violating.
        """
        budget = (1.0 - self.target) * self.total_slices
        # isclose: 3 bad slices of 30 at T = 0.9 spend the budget, not exceed it.
        return self.bad_slices > budget and not math.isclose(self.bad_slices, budget)


def _leading_unmeasured(slices: Sequence[Slice]) -> int:
    for k, piece in enumerate(slices):
        if piece.state is not SliceState.UNMEASURED:
            return k
    return len(slices)


def _check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], not {value}")


def evaluate_window(
    slices: Sequence[Slice],
    allowed: AllowedRange,
    target: float,
    slice_seconds: int,
    coverage_floor: float = 0.9,
) -> WindowReport:
    """Count the slices of a window and find its episodes.

    Args:
        slices: the window's slices, oldest first.
        allowed: the allowed range.
        target: the required share of good slices T, in [0, 1].
        slice_seconds: the slice length Δ.
        coverage_floor: minimum share of measured slices, in [0, 1].

    Returns:
        The report; for no slices, zeros with ``start = end = 0``.

    Raises:
        ValueError: for a target or floor outside [0, 1] or a non-positive Δ.
    """
    _check_share("target", target)
    _check_share("coverage_floor", coverage_floor)
    if slice_seconds <= 0:
        raise ValueError(f"slice_seconds must be positive, not {slice_seconds}")
    counts = dict.fromkeys(SliceState, 0)
    for piece in slices:
        counts[piece.state] += 1
    return WindowReport(
        start=slices[0].start if slices else 0.0,
        end=slices[-1].end if slices else 0.0,
        slice_seconds=slice_seconds,
        target=target,
        coverage_floor=coverage_floor,
        total_slices=len(slices),
        good_slices=counts[SliceState.GOOD],
        above_slices=counts[SliceState.ABOVE],
        below_slices=counts[SliceState.BELOW],
        unmeasured_slices=counts[SliceState.UNMEASURED],
        episodes=find_episodes(slices, allowed),
        leading_unmeasured_slices=_leading_unmeasured(slices),
    )


@attrs.frozen(kw_only=True)
class PredictedSlice:
    """One future slice ``[start, end)`` as the forecast sees it.

    Attributes:
        start, end: epoch seconds.
        probability: ``P(x < lo) + P(x > hi)`` for the slice's worst forecast
            point (the one with the highest probability).
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
        """The first slice that is more likely bad than not (p ≥ 0.5)."""
        return next((s for s in self.slices if s.probability >= 0.5), None)

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


def _normal_of(point: ForecastPoint, floor: float | None) -> tuple[float, float]:
    """``(mean, sigma)`` of the normal behind a forecast point.

    A point clamped at the floor (ADR 0017) lost its lower bound and maybe its
    mean, so both are read off the upper bounds, which clamping left alone
    while ``upper_80`` is above the floor.
    """
    if floor is None or point.lower_95 > floor:
        return point.mean, (point.upper_95 - point.lower_95) / (2.0 * _Z95)
    if point.upper_80 > floor:
        sigma = (point.upper_95 - point.upper_80) / (_Z95 - _Z80)
        return point.upper_95 - _Z95 * sigma, sigma
    return point.mean, (point.upper_95 - point.mean) / _Z95


def _tail_probabilities(
    point: ForecastPoint, allowed: AllowedRange, floor: float | None = None
) -> tuple[float, float]:
    """``(P(x < lo), P(x > hi))`` of ``max(floor, X)``, X the normal approximation.

    Nothing lies below the floor: a ``lo`` at or under it is never violated.
    """
    mean, sigma = _normal_of(point, floor)
    lo, hi = allowed.lo, allowed.hi
    if floor is not None:
        lo = None if lo is not None and lo <= floor else lo
        if hi is not None and hi < floor:  # then lo < floor too
            return 0.0, 1.0
    if not sigma > 0:  # zero width (or NaN): deterministic
        return float(lo is not None and mean < lo), float(hi is not None and mean > hi)
    scale = sigma * _SQRT2
    below_p = 0.0 if lo is None else 0.5 * math.erfc((mean - lo) / scale)
    above_p = 0.0 if hi is None else 0.5 * math.erfc((hi - mean) / scale)
    return below_p, above_p


@attrs.frozen
class _Worst:
    """The worst forecast point of one future slice so far."""

    probability: float
    distance: float
    point: ForecastPoint
    side: Side | None

    @classmethod
    def of(
        cls, point: ForecastPoint, allowed: AllowedRange, floor: float | None
    ) -> "_Worst":
        below, above = _tail_probabilities(point, allowed, floor)
        probability = min(1.0, below + above)
        side = None
        if probability > 0:
            side = Side.ABOVE if above >= below else Side.BELOW
        return cls(probability, allowed.distance(point.mean), point, side)

    def beats(self, other: "_Worst") -> bool:
        return (self.probability, self.distance) > (other.probability, other.distance)


def _worst_by_slice(
    points: Sequence[ForecastPoint],
    allowed: AllowedRange,
    now: float,
    slices: int,
    slice_seconds: int,
    floor: float | None,
) -> dict[int, _Worst]:
    """The worst point of each future slice ``(now + kΔ, now + (k+1)Δ]``."""
    worst: dict[int, _Worst] = {}
    for point in points:
        t = point.timestamp
        if not t > now or math.isnan(point.mean):
            continue
        k = math.ceil((t - now) / slice_seconds) - 1
        if k >= slices:
            continue
        candidate = _Worst.of(point, allowed, floor)
        if k not in worst or candidate.beats(worst[k]):
            worst[k] = candidate
    return worst


class _PastWindow:
    """Bad and measured counts of past slices starting at or after a time."""

    def __init__(self, past: Sequence[Slice], now: float) -> None:
        rows = sorted((s for s in past if s.start < now), key=lambda s: s.start)
        self.starts = [s.start for s in rows]
        self.bad = [0]
        self.measured = [0]
        for s in rows:
            self.bad.append(self.bad[-1] + (s.state in _SIDE_OF_STATE))
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
    allowed: AllowedRange,
    now: float,
    horizon_seconds: int,
    slice_seconds: int,
    past: Sequence[Slice],
    window_seconds: int,
    target: float,
    floor: float | None = None,
) -> Prediction:
    """Predict excursions and the remaining budget over the forecast horizon.

    Each forecast point is taken as normal with ``sigma = (upper_95 - lower_95) /
    (2 · 1.96)``; a zero sigma is deterministic. For a series that cannot go
    below ``floor``, a point clamped there is read from its upper bounds (see
    ``_normal_of``) and nothing lies below the floor. Future slice ``k`` covers
    ``[now + kΔ, now + (k+1)Δ)`` for ``k < horizon // Δ`` (a partial last slice is
    dropped) and holds the points with timestamps in ``(now + kΔ, now + (k+1)Δ]``;
    its probability is that of its worst point. Slices without a point are left
    out, also from the projected budget (like unmeasured slices): slice ``k``'s
    rolling window holds the past slices with ``start >= end_k - W`` and
    ``start < now`` plus the kept future slices up to ``k`` that start inside the
    window, each future slice counting as measured and as ``p`` bad slices.

    Args:
        points: the forecast; points at or before ``now`` and NaN means are ignored.
        allowed: the allowed range.
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
    _check_share("target", target)
    if slice_seconds <= 0 or window_seconds <= 0 or horizon_seconds < 0:
        raise ValueError(
            "slice and window lengths must be positive and the horizon not "
            f"negative: {slice_seconds}, {window_seconds}, {horizon_seconds}"
        )
    worst = _worst_by_slice(
        points, allowed, now, horizon_seconds // slice_seconds, slice_seconds, floor
    )
    history = _PastWindow(past, now)
    kept = sorted(worst)
    starts = [now + k * slice_seconds for k in kept]
    cumulative = [0.0]
    for k in kept:
        cumulative.append(cumulative[-1] + worst[k].probability)
    result: list[PredictedSlice] = []
    for m, k in enumerate(kept):
        end = starts[m] + slice_seconds
        lower = end - window_seconds
        past_bad, past_measured = history.since(lower)
        j = bisect.bisect_left(starts, lower, hi=m + 1)
        bad = past_bad + cumulative[m + 1] - cumulative[j]
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
            )
        )
    return Prediction(slices=tuple(result))


def objective_status(report: WindowReport, prediction: Prediction | None) -> Status:
    """The status of one objective of one series.

    Insufficient data wins over everything (never green without data), then a
    breach, then a predicted breach or a likely excursion (an ETA). A history
    younger than the window is ``warming_up`` rather than insufficient, unless
    its bad slices already exceed a full window's budget (``violating``).
    """
    if report.insufficient_data:
        if report.warming_up and report.breach_certain:
            return Status.VIOLATING
        if report.warming_up:
            return Status.WARMING_UP
        return Status.INSUFFICIENT_DATA
    if report.breached:
        return Status.VIOLATING
    if prediction is not None and (
        prediction.breach_predicted or prediction.eta is not None
    ):
        return Status.AT_RISK
    return Status.OK


def worst_status(statuses: Iterable[Status]) -> Status:
    """The most severe: violating > at_risk > insufficient_data > warming_up > ok.

    OK for no statuses.
    """
    return max(statuses, key=_STATUS_RANK.__getitem__, default=Status.OK)
