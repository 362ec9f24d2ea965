"""Trailing-window statistics of a series, recomputed from the clock every cycle."""

import math
from collections.abc import Sequence
from datetime import datetime

import attrs

from monitoring_core.series import MetricKind, SeriesKey, ValueKind, value_kind_of


@attrs.frozen(kw_only=True)
class WindowStats:
    """Statistics of the samples in the trailing window ``(at - seconds, at]``.

    Attributes:
        window_seconds: the window length.
        count: number of samples in the window.
        min, max, avg: extremes and mean; None when the window holds no sample.
        stddev: population standard deviation, as Prometheus' ``stddev_over_time``.
        last: the newest value in the window.
        last_timestamp: Unix time of the newest sample, when known.
    """

    window_seconds: int
    count: int
    min: float | None
    max: float | None
    avg: float | None
    stddev: float | None
    last: float | None
    last_timestamp: float | None = None


@attrs.frozen(kw_only=True)
class SeriesWindowStats:
    """Every configured window of one series at one evaluation time.

    Attributes:
        series: which series.
        kind: its metric type; ``value_kind`` says whether the statistics are
            of the value or of its per-second rate.
        at: evaluation time, the right edge of every window.
        windows: one entry per configured window, shortest first.
    """

    series: SeriesKey
    kind: MetricKind
    at: datetime
    windows: tuple[WindowStats, ...]

    @property
    def value_kind(self) -> ValueKind:
        """The value or its per-second rate, derived from ``kind`` and the key."""
        return value_kind_of(self.series, self.kind)


def compute_window_stats(
    samples: Sequence[tuple[float, float]], window_seconds: int, at: float
) -> WindowStats:
    """Compute the statistics of ``(timestamp, value)`` samples in a trailing window.

    The window is ``(at - window_seconds, at]``. Sums use ``math.fsum`` so the
    result is the correctly rounded mean, and the deviation is two-pass.
    """
    inside = [(t, v) for t, v in samples if at - window_seconds < t <= at]
    if not inside:
        return WindowStats(
            window_seconds=window_seconds,
            count=0,
            min=None,
            max=None,
            avg=None,
            stddev=None,
            last=None,
        )
    values = [v for _, v in inside]
    mean = math.fsum(values) / len(values)
    variance = math.fsum((v - mean) ** 2 for v in values) / len(values)
    last_t, last_v = max(inside, key=lambda s: s[0])
    return WindowStats(
        window_seconds=window_seconds,
        count=len(values),
        min=min(values),
        max=max(values),
        avg=mean,
        stddev=math.sqrt(variance),
        last=last_v,
        last_timestamp=last_t,
    )
