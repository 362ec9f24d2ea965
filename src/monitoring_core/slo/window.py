"""Window reports: the slice counts, SLI, error budget and burn rate of a window.

An empty slice sequence gives a report of zeros with ``start = end = 0``
(coverage 0, so ``insufficient_data`` unless the floor is 0). Coverage below the
floor only because the history began inside the window (the slices from the
first measured one on reach the floor) is ``warming_up``. A target of exactly 1
leaves no budget: budget consumption, remaining budget and burn rate are None
then. The report counts slice states only; it does not know the objective kind.
"""

import math
from collections.abc import Sequence

import attrs

from monitoring_core.slo.episodes import Episode, find_episodes
from monitoring_core.slo.kinds import ObjectiveKind, SliceState
from monitoring_core.slo.slices import Slice


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


def check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], not {value}")


def evaluate_window(
    slices: Sequence[Slice],
    kind: ObjectiveKind,
    target: float,
    slice_seconds: int,
    coverage_floor: float = 0.9,
) -> WindowReport:
    """Count the slices of a window and find its episodes.

    Args:
        slices: the window's slices, oldest first.
        kind: the objective kind the slices were judged by.
        target: the required share of good slices T, in [0, 1].
        slice_seconds: the slice length Δ.
        coverage_floor: minimum share of measured slices, in [0, 1].

    Returns:
        The report; for no slices, zeros with ``start = end = 0``.

    Raises:
        ValueError: for a target or floor outside [0, 1] or a non-positive Δ.
    """
    check_share("target", target)
    check_share("coverage_floor", coverage_floor)
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
        episodes=find_episodes(slices, kind),
        leading_unmeasured_slices=_leading_unmeasured(slices),
    )
