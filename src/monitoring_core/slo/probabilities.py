"""Forecast points as probabilities of bad slices.

Predictions use a normal approximation of each forecast point, with the standard
deviation read off its 95 % interval; a zero-width interval is deterministic. For
a series that cannot go below a floor (ADR 0017), a point clamped there is read
from its upper bounds and nothing is predicted below the floor. Only the
objective kind's bounds and distance are used, never its type.
"""

import math
from collections.abc import Sequence

import attrs

from monitoring_core.forecasts import ForecastPoint
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


def tail_probabilities(
    point: ForecastPoint, kind: ObjectiveKind, floor: float | None = None
) -> tuple[float, float]:
    """``(P(x < lo), P(x > hi))`` of ``max(floor, X)``, X the normal approximation.

    Nothing lies below the floor: a ``lo`` at or under it is never violated.
    """
    mean, sigma = _normal_of(point, floor)
    lo, hi = kind.bounds
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


def worst_by_slice(
    points: Sequence[ForecastPoint],
    kind: ObjectiveKind,
    now: float,
    slices: int,
    slice_seconds: int,
    floor: float | None,
) -> dict[int, WorstPoint]:
    """The worst point of each future slice ``(now + kΔ, now + (k+1)Δ]``."""
    worst: dict[int, WorstPoint] = {}
    for point in points:
        t = point.timestamp
        if not t > now or math.isnan(point.mean):
            continue
        k = math.ceil((t - now) / slice_seconds) - 1
        if k >= slices:
            continue
        candidate = WorstPoint.of(point, kind, floor)
        if k not in worst or candidate.beats(worst[k]):
            worst[k] = candidate
    return worst
