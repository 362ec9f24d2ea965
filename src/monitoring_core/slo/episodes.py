"""Violation episodes: maximal runs of bad slices of one side.

Rules:

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
  minimum of a ``below`` one; its distance is measured by the objective's kind.
"""

from collections.abc import Sequence

import attrs

from monitoring_core.slo.kinds import SIDE_OF_STATE, ObjectiveKind, Side, SliceState
from monitoring_core.slo.slices import Slice


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


def find_episodes(slices: Sequence[Slice], kind: ObjectiveKind) -> tuple[Episode, ...]:
    """Group consecutive bad slices into violation episodes (rules: module doc).

    Args:
        slices: consecutive slices, oldest first, as from
            :func:`~monitoring_core.slo.slices.slice_samples`.
        kind: the objective kind the slices were judged by (for distances).

    Returns:
        The episodes, oldest first; only the last one can be open.

    Raises:
        ValueError: when a bad slice lacks the extreme it was judged on.
    """
    episodes: list[Episode] = []
    run: _Run | None = None
    for piece in slices:
        side = SIDE_OF_STATE.get(piece.state)
        if side is None:
            if run is not None and piece.state is SliceState.GOOD:
                episodes.append(run.close(still_open=False))
                run = None
            elif run is not None:
                run.pending += 1
            continue
        value = _extreme(piece, side)
        distance = kind.distance(value)
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
