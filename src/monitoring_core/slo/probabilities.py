"""Forecast points as probabilities of bad slices.

A forecast calibrated on its series' rolling errors (its points carry the
running max and min, ADR 0040) gives each point's distribution as five
quantiles; the probability of a value beyond a bound is read off the
piecewise-linear distribution function through them (:func:`band_below`,
:func:`band_above`), with exponential tails beyond the outer quantiles. Equal
quantiles are a point mass: a series that sits on a bound has no probability
of crossing it, and a value on a bound is good. Other forecasts use a normal
approximation of each point, with the standard deviation read off its 95 %
interval; a zero-width interval is deterministic. For a series that cannot go
below a floor (ADR 0017), a point clamped there is read from its upper bounds
and nothing is predicted below the floor. Only the objective kind's bounds and
distance are used, never its type.
"""

import math
from collections.abc import Sequence

import attrs

from monitoring_core.forecasts import BAND_LEVELS, Band, ForecastPoint
from monitoring_core.slo.kinds import ObjectiveKind, Side

# Two-sided 95 % and 80 % quantiles of the standard normal distribution.
_Z95 = 1.959963984540054
_Z80 = 1.2815515655446004
_SQRT2 = math.sqrt(2.0)


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


_OUTER = BAND_LEVELS[0]
_NEGLIGIBLE = 1e-12
"""Tail probabilities below this (beyond ~24 tail scales) are taken as 0."""
_TAIL_DECAY = math.log(BAND_LEVELS[1] / BAND_LEVELS[0])


def _between(low: float, high: float, share: float) -> float:
    """The level a share of the way from quantile level ``low`` to ``high``.

    Log-linear in the nearer tail's probability (``F`` below the median,
    ``1 - F`` above): the exponential shape of the outer tails carried inward,
    which follows the right-skewed errors of a series' max (and left-skewed of
    its min) better than a straight line.
    """
    if high <= 0.5:
        return math.exp(math.log(low) + share * (math.log(high) - math.log(low)))
    upper_low, upper_high = 1.0 - low, 1.0 - high
    return 1.0 - math.exp(
        math.log(upper_low) + share * (math.log(upper_high) - math.log(upper_low))
    )


def _tail(distance: float, scale: float) -> float:
    p = _OUTER * math.exp(-distance / scale)
    return p if p >= _NEGLIGIBLE else 0.0


def band_below(band: Band, x: float) -> float:
    """``P(X < x)`` for the distribution whose quantiles the band holds.

    Linear between the quantiles; below the lowest, an exponential tail with
    the scale of the two lowest quantiles' gap (none when they are equal: a
    point mass, nothing lies below it).
    """
    q = band.quantiles()
    if x <= q[0]:
        scale = (q[1] - q[0]) / _TAIL_DECAY
        if not scale > 0:
            return 0.0
        return _tail(q[0] - x, scale)
    for i in range(1, len(q)):
        if x <= q[i]:  # q[i - 1] < x <= q[i]
            share = (x - q[i - 1]) / (q[i] - q[i - 1])
            return _between(BAND_LEVELS[i - 1], BAND_LEVELS[i], share)
    return 1.0 - band_above(band, x) if x > q[-1] else 1.0


def band_above(band: Band, x: float) -> float:
    """``P(X > x)``, the mirror of :func:`band_below`."""
    q = band.quantiles()
    if x >= q[-1]:
        scale = (q[-1] - q[-2]) / _TAIL_DECAY
        if not scale > 0:
            return 0.0
        return _tail(x - q[-1], scale)
    for i in range(len(q) - 2, -1, -1):
        if x >= q[i]:  # q[i] <= x < q[i + 1]
            share = (x - q[i]) / (q[i + 1] - q[i])
            return 1.0 - _between(BAND_LEVELS[i], BAND_LEVELS[i + 1], share)
    return 1.0 - band_below(band, x)


def _point_band(point: ForecastPoint) -> Band:
    return Band(
        lower_95=point.lower_95,
        lower_80=point.lower_80,
        median=point.mean,
        upper_80=point.upper_80,
        upper_95=point.upper_95,
    )


def _usable_bounds(
    kind: ObjectiveKind, floor: float | None
) -> tuple[float | None, float | None, bool]:
    """The bounds that can be crossed given the floor; True: ``hi`` is below it."""
    lo, hi = kind.bounds
    if floor is not None:
        lo = None if lo is not None and lo <= floor else lo
        if hi is not None and hi < floor:  # then lo < floor too
            return lo, hi, True
    return lo, hi, False


def excursion_probabilities(
    low: Band, high: Band, kind: ObjectiveKind, floor: float | None = None
) -> tuple[float, float]:
    """``(P(min < lo), P(max > hi))`` from the distributions of a min and a max."""
    lo, hi, impossible = _usable_bounds(kind, floor)
    if impossible:
        return 0.0, 1.0
    below = 0.0 if lo is None else band_below(low, lo)
    above = 0.0 if hi is None else band_above(high, hi)
    return below, above


def tail_probabilities(
    point: ForecastPoint, kind: ObjectiveKind, floor: float | None = None
) -> tuple[float, float]:
    """``(P(x < lo), P(x > hi))`` of ``max(floor, X)``.

    X is read from the point's quantiles when the forecast is calibrated
    (``running_max`` given), else it is the normal approximation. Nothing lies
    below the floor: a ``lo`` at or under it is never violated.
    """
    if point.running_max is not None:
        band = _point_band(point)
        return excursion_probabilities(band, band, kind, floor)
    mean, sigma = _normal_of(point, floor)
    lo, hi, impossible = _usable_bounds(kind, floor)
    if impossible:
        return 0.0, 1.0
    if not sigma > 0:  # zero width (or NaN): deterministic
        return float(lo is not None and mean < lo), float(hi is not None and mean > hi)
    scale = sigma * _SQRT2
    below_p = 0.0 if lo is None else 0.5 * math.erfc((mean - lo) / scale)
    above_p = 0.0 if hi is None else 0.5 * math.erfc((hi - mean) / scale)
    return below_p, above_p


@attrs.frozen
class WorstPoint:
    """The worst forecast point of one future slice so far."""

    probability: float
    distance: float
    point: ForecastPoint
    side: Side | None

    @classmethod
    def of(
        cls, point: ForecastPoint, kind: ObjectiveKind, floor: float | None
    ) -> "WorstPoint":
        """The probability, distance and likelier side of one point."""
        below, above = tail_probabilities(point, kind, floor)
        probability = min(1.0, below + above)
        side = None
        if probability > 0:
            side = Side.ABOVE if above >= below else Side.BELOW
        return cls(probability, kind.distance(point.mean), point, side)

    def beats(self, other: "WorstPoint") -> bool:
        """Likelier bad, or as likely and farther out."""
        return (self.probability, self.distance) > (other.probability, other.distance)


def slice_index(t: float, now: float, slice_seconds: int) -> int:
    """The future slice ``[now + kΔ, now + (k+1)Δ)`` that holds time ``t``.

    A forecast point belongs to the slice a sample at its time is judged in,
    so a predicted slice is later scored against its own samples only.
    """
    return math.floor((t - now) / slice_seconds)


def worst_by_slice(
    points: Sequence[ForecastPoint],
    kind: ObjectiveKind,
    now: float,
    horizon_seconds: int,
    slice_seconds: int,
    floor: float | None,
) -> dict[int, WorstPoint]:
    """The worst point of each future slice (``slice_index``).

    Points at or before ``now``, after ``now + horizon_seconds`` or with a
    NaN mean are ignored.
    """
    worst: dict[int, WorstPoint] = {}
    for point in points:
        t = point.timestamp
        if not now < t <= now + horizon_seconds or math.isnan(point.mean):
            continue
        k = slice_index(t, now, slice_seconds)
        candidate = WorstPoint.of(point, kind, floor)
        if k not in worst or candidate.beats(worst[k]):
            worst[k] = candidate
    return worst


def cumulative_by_slice(
    points: Sequence[ForecastPoint],
    kind: ObjectiveKind,
    now: float,
    worst: dict[int, WorstPoint],
    slice_seconds: int,
    floor: float | None,
) -> dict[int, float]:
    """P(some slice from the first kept one up to slice k is bad), per kept k.

    From the running max and min of the last point up to each slice's end when
    the forecast gives them (``P(min < lo) + P(max > hi)``, at most 1); else,
    and never less than, the largest single-slice probability so far (a lower
    bound: it takes the slices' errors as fully dependent).
    """
    last: dict[int, ForecastPoint] = {}
    for point in points:
        t = point.timestamp
        if t > now and not math.isnan(point.mean):
            k = slice_index(t, now, slice_seconds)
            if k in worst and (k not in last or t > last[k].timestamp):
                last[k] = point
    out: dict[int, float] = {}
    so_far = 0.0
    for k in sorted(worst):
        so_far = max(so_far, worst[k].probability)
        point = last[k]
        if point.running_max is not None and point.running_min is not None:
            below, above = excursion_probabilities(
                point.running_min, point.running_max, kind, floor
            )
            so_far = max(so_far, min(1.0, below + above))
        out[k] = so_far
    return out
