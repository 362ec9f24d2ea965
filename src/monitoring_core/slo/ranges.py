"""The range objective: a series should stay within ``[lo, hi]``."""

import attrs

from monitoring_core.slo.kinds import SampleStats, Side, SliceState


@attrs.frozen
class AllowedRange:
    """The range ``[lo, hi]`` a series should stay in; either bound may be open.

    An :class:`~monitoring_core.slo.kinds.ObjectiveKind`: a slice is judged on
    its extremes, ``above`` when its maximum is above ``hi`` and ``below`` when
    its minimum is below ``lo``; a slice that is both takes the side with the
    larger distance from its bound (``above`` on a tie).

    The bounds themselves are good. No validation happens here: the caller makes
    sure that the bounds are finite, ``lo <= hi`` and at least one is given.
    """

    lo: float | None = None
    hi: float | None = None

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """``(lo, hi)``."""
        return self.lo, self.hi

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

    def judge(self, stats: SampleStats) -> SliceState:
        """Above, below or good, from the slice's maximum and minimum."""
        above = self.hi is not None and stats.maximum > self.hi
        below = self.lo is not None and stats.minimum < self.lo
        if above and below:
            if self.distance(stats.maximum) >= self.distance(stats.minimum):
                return SliceState.ABOVE
            return SliceState.BELOW
        if above:
            return SliceState.ABOVE
        if below:
            return SliceState.BELOW
        return SliceState.GOOD
