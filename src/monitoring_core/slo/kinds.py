"""The objective kind: what slices, episodes and predictions need of an objective.

An objective *kind* decides whether a measured slice is good or bad, and on which
side; it names the bounds a forecast should stay between. The allowed range
(:class:`~monitoring_core.slo.ranges.AllowedRange`) is one kind; a burn-rate or
ratio objective is another. The slice, episode, window (budget) and prediction
code depend only on :class:`ObjectiveKind`, so a new kind changes none of them
(docs/contributing.md, "Add an objective kind"; ADR 0025).
"""

from enum import StrEnum
from typing import NamedTuple, Protocol


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


SIDE_OF_STATE = {SliceState.ABOVE: Side.ABOVE, SliceState.BELOW: Side.BELOW}
"""The side of a bad state; good and unmeasured slices have none."""


class SampleStats(NamedTuple):
    """What one measured slice's samples (NaN left out) add up to.

    A named tuple rather than an attrs class: a 12 h refresh builds one per
    slice of every series (tens of thousands), and a tuple is built in a third
    of the time (ADR 0046).

    Attributes:
        samples: how many; at least one.
        minimum, maximum: their extremes.
        total: their sum (a kind judged on the mean divides it by ``samples``).
    """

    samples: int
    minimum: float
    maximum: float
    total: float

    @property
    def mean(self) -> float:
        """The mean of the samples."""
        return self.total / self.samples


class ObjectiveKind(Protocol):
    """What an objective requires of a series, as the SLO maths sees it.

    A bad slice is ``above`` or ``below``: episodes take an ``above`` slice's
    maximum and a ``below`` slice's minimum as its worst value, and ask the kind
    how far that lies from the violated bound.
    """

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """``(lo, hi)``: the values a forecast must stay between; None is open.

        Predictions take the probability of leaving them as the probability of
        a bad slice.
        """
        ...

    def judge(self, stats: SampleStats) -> SliceState:
        """Good, above or below for a slice with at least one sample.

        Args:
            stats: the slice's samples, summed up.

        Returns:
            Never ``UNMEASURED``: a slice without samples is not judged.
        """
        ...

    def distance(self, value: float) -> float:
        """How far a value lies outside what is good; 0.0 when it is good."""
        ...
