"""Slices: cutting a series' samples into time slices and judging each one.

The range ``[start, end)`` is cut into slices ``[start + kΔ, start + (k+1)Δ)``.
A slice without a (non-NaN) sample is ``unmeasured`` and leaves the denominator;
it is reported as coverage instead. A measured slice is judged by the
objective's kind (:class:`~monitoring_core.slo.kinds.ObjectiveKind`) on what its
samples add up to (:class:`~monitoring_core.slo.kinds.SampleStats`): cutting
(:func:`slice_stats`) and judging (:func:`judge_slices`) are apart, so a source
that sums up the slices itself (Prometheus' ``*_over_time`` on the slice grid)
hands its sums to the same judge.
"""

import math
from collections.abc import Sequence

import attrs

from monitoring_core.series import SeriesKey
from monitoring_core.slo.kinds import ObjectiveKind, SampleStats, SliceState


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


@attrs.frozen(kw_only=True)
class SeriesSliceStats:
    """What each slice of one series' samples adds up to.

    Attributes:
        key: the series.
        stats: one entry per slice, oldest first; None for a slice without a
            (non-NaN) sample.
    """

    key: SeriesKey
    stats: tuple[SampleStats | None, ...]


def slice_count(start: float, end: float, slice_seconds: int) -> int:
    """How many slices ``[start, end)`` holds.

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
    return int(count)


def slice_stats(
    samples: Sequence[tuple[float, float]],
    start: float,
    end: float,
    slice_seconds: int,
) -> tuple[SampleStats | None, ...]:
    """Cut ``[start, end)`` into slices and sum up each one's samples.

    A sample ``(t, v)`` belongs to slice ``floor((t - start) / Δ)``. Samples
    outside ``[start, end)`` and NaN values are ignored; the total adds the
    values in the order given. One pass over the samples, which may come in
    any order.

    Returns:
        One entry per slice, oldest first; None for a slice without a sample.

    Raises:
        ValueError: as :func:`slice_count`.
    """
    n = slice_count(start, end, slice_seconds)
    lows: list[float] = [math.inf] * n
    highs: list[float] = [-math.inf] * n
    totals = [0.0] * n
    counts = [0] * n
    for t, v in samples:
        if not start <= t < end or math.isnan(v):
            continue
        k = min(int((t - start) // slice_seconds), n - 1)
        counts[k] += 1
        totals[k] += v
        lows[k] = min(lows[k], v)
        highs[k] = max(highs[k], v)
    return tuple(
        SampleStats(samples=c, minimum=lows[k], maximum=highs[k], total=totals[k])
        if c
        else None
        for k, c in enumerate(counts)
    )


def judge_slices(
    stats: Sequence[SampleStats | None],
    start: float,
    slice_seconds: int,
    kind: ObjectiveKind,
) -> tuple[Slice, ...]:
    """Judge consecutive slices from ``start`` on what their samples add up to.

    Args:
        stats: one entry per slice, oldest first; None for an unmeasured one.
        start: left edge of the first slice (epoch seconds).
        slice_seconds: the slice length Δ.
        kind: the objective's kind.

    Returns:
        The slices, oldest first.
    """
    return tuple(
        _make_slice(start + k * slice_seconds, slice_seconds, s, kind)
        for k, s in enumerate(stats)
    )


def slice_samples(
    samples: Sequence[tuple[float, float]],
    start: float,
    end: float,
    slice_seconds: int,
    kind: ObjectiveKind,
) -> tuple[Slice, ...]:
    """Cut ``[start, end)`` into slices and judge each one.

    :func:`slice_stats` then :func:`judge_slices`.

    Args:
        samples: ``(timestamp, value)`` pairs.
        start: left edge of the first slice (epoch seconds).
        end: right edge of the last slice.
        slice_seconds: the slice length Δ.
        kind: the objective's kind, e.g. an allowed range.

    Returns:
        The slices, oldest first.

    Raises:
        ValueError: when Δ is not positive or ``end - start`` is not a positive
            multiple of it.
    """
    return judge_slices(
        slice_stats(samples, start, end, slice_seconds), start, slice_seconds, kind
    )


def _make_slice(
    left: float, slice_seconds: int, stats: SampleStats | None, kind: ObjectiveKind
) -> Slice:
    if stats is None:
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
        state=kind.judge(stats),
        minimum=stats.minimum,
        maximum=stats.maximum,
        samples=stats.samples,
    )
