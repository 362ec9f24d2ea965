"""A metric source held in memory: samples in, Prometheus-like answers out."""

import itertools
import math
from collections.abc import Sequence
from datetime import datetime

from monitoring_core.errors import SourceUnavailable
from monitoring_core.kinds import classify_all
from monitoring_core.ports import MetricSource
from monitoring_core.selectors import Selector
from monitoring_core.series import (
    MetricKind,
    SeriesHistory,
    SeriesInfo,
    SeriesKey,
    SeriesSamples,
    ValueKind,
)
from monitoring_core.slo import SeriesSliceStats, slice_stats
from monitoring_core.windows import SeriesWindowStats, compute_window_stats

Samples = list[tuple[float, float]]

LOOKBACK_SECONDS = 300
"""Like Prometheus' lookback delta: a grid step takes the newest sample this recent."""


def _rates(samples: Samples) -> Samples:
    """Per-second rate between consecutive samples; a drop is a counter reset."""
    out: Samples = []
    for (t0, v0), (t1, v1) in itertools.pairwise(samples):
        increase = v1 - v0 if v1 >= v0 else v1
        out.append((t1, increase / (t1 - t0)))
    return out


class InMemoryMetricSource(MetricSource):
    """Series and samples kept in a dict, kinds classified as Prometheus' are.

    Cumulative series are analysed as the per-second rate between consecutive
    samples, a simpler estimate than PromQL's ``rate()`` extrapolation.

    Attributes:
        metadata: metric type by metric (family) name, like Prometheus'
            ``/api/v1/metadata``; names without one are classified by name.
    """

    def __init__(self) -> None:
        self._series: dict[SeriesKey, Samples] = {}
        self.metadata: dict[str, str] = {}
        self.available = True

    def add(
        self,
        key: SeriesKey,
        samples: Sequence[tuple[float, float]],
        kind: MetricKind | None = None,
    ) -> None:
        """Add samples ``(unix_time, value)`` to a series.

        Args:
            key: the series.
            samples: its new samples.
            kind: declared as the metadata of the series' name when given.
        """
        if kind is not None:
            self.metadata[key.name] = kind.value
        self._series[key] = sorted([*self._series.get(key, []), *samples])

    def _check(self) -> None:
        if not self.available:
            raise SourceUnavailable("in-memory source switched off")

    def _analysed(self, info: SeriesInfo) -> Samples:
        samples = self._series.get(info.key, [])
        if info.value_kind is ValueKind.PER_SECOND_RATE:
            return _rates(samples)
        return samples

    def discover(
        self, selectors: Sequence[Selector], start: datetime, end: datetime
    ) -> list[SeriesInfo]:
        """Series matched by any selector with a sample in ``[start, end]``."""
        self._check()
        lo, hi = start.timestamp(), end.timestamp()
        found = [
            key
            for key, samples in sorted(
                self._series.items(), key=lambda kv: kv[0].canonical
            )
            if any(s.matches(key.name, key.label_map) for s in selectors)
            and any(lo <= t <= hi for t, _ in samples)
        ]
        return classify_all(found, self.metadata)

    def window_stats(
        self, series: Sequence[SeriesInfo], windows: Sequence[int], at: datetime
    ) -> list[SeriesWindowStats]:
        """Statistics per window, computed from the stored samples."""
        self._check()
        now = at.timestamp()
        out = []
        for info in series:
            samples = self._analysed(info)
            stats = tuple(compute_window_stats(samples, w, now) for w in windows)
            if any(s.count for s in stats):
                out.append(
                    SeriesWindowStats(
                        series=info.key, kind=info.kind, at=at, windows=stats
                    )
                )
        return out

    def history(
        self,
        series: Sequence[SeriesInfo],
        start: datetime,
        end: datetime,
        step_seconds: int,
    ) -> list[SeriesHistory]:
        """Each grid step takes the newest sample at most five minutes old."""
        self._check()
        t0, t1 = start.timestamp(), end.timestamp()
        grid = [
            t0 + i * step_seconds for i in range(int((t1 - t0) // step_seconds) + 1)
        ]
        out = []
        for info in series:
            samples = self._analysed(info)
            values = tuple(_value_at(samples, t) for t in grid)
            if any(not math.isnan(v) for v in values):
                out.append(
                    SeriesHistory(
                        series=info.key,
                        start=t0,
                        step_seconds=step_seconds,
                        values=values,
                    )
                )
        return out

    def samples(
        self, selector: Selector, start: datetime, end: datetime
    ) -> list[SeriesSamples]:
        """The raw samples (counters too: no rate) in ``[start, end)``."""
        self._check()
        lo, hi = start.timestamp(), end.timestamp()
        out = []
        for key, samples in sorted(
            self._series.items(), key=lambda kv: kv[0].canonical
        ):
            inside = tuple((t, v) for t, v in samples if lo <= t < hi)
            if inside and selector.matches(key.name, key.label_map):
                out.append(SeriesSamples(key=key, samples=inside))
        return out

    def slice_stats(
        self,
        selectors: Sequence[Selector],
        start: datetime,
        end: datetime,
        slice_seconds: int,
    ) -> list[list[SeriesSliceStats]]:
        """Each selector's raw samples summed up slice by slice.

        A series whose samples in the range are all NaN is left out, as
        Prometheus leaves it out.
        """
        lo, hi = start.timestamp(), end.timestamp()
        out = []
        for selector in selectors:
            summed = (
                SeriesSliceStats(
                    key=found.key,
                    stats=slice_stats(found.samples, lo, hi, slice_seconds),
                )
                for found in self.samples(selector, start, end)
            )
            out.append([s for s in summed if any(s.stats)])
        return out


def _value_at(samples: Samples, t: float) -> float:
    recent = [v for ts, v in samples if t - LOOKBACK_SECONDS < ts <= t]
    return recent[-1] if recent else math.nan
