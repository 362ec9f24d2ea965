"""Raw samples from Prometheus, as scraped, for judging objectives slice by slice.

Two ways to sum up slices (ADR 0046), the same figures either way:

- **raw**: one instant query of the range vector ``selector[range]`` per
  selector; the samples are cut into slices here. Cheapest for long ranges of
  few samples per slice (12 h of 1-minute slices at a 15 s scrape: four).
- **grid**: Prometheus sums the slices up itself, ``min_over_time``,
  ``max_over_time``, ``count_over_time`` and ``sum_over_time`` evaluated once
  per slice by a range query whose step is the slice length, every selector in
  one query. Cheapest for short ranges (a refresh reads the few slices since
  the last one: one query instead of one per objective).

Both are exact: a range vector evaluated at ``t`` holds the samples in
``[t - range, t]`` (Prometheus 2) or ``(t - range, t]`` (Prometheus 3), so the
slice ``[s, s + Δ)`` is read at ``t = s + Δ - 1 ms`` (timestamps are whole
milliseconds) over ``Δ - 1 ms`` or ``Δ`` respectively. Range vectors take no
lookback and no stale markers. A NaN sample makes the grid's figures of its
series unusable (``count_over_time`` counts it, ``sum_over_time`` turns NaN),
so a selector with one is read raw.
"""

import bisect
import itertools
import math
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import msgspec

from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.promql import STAT_LABEL, merged_selectors, union
from monitoring_core.errors import SourceUnavailable
from monitoring_core.ports import SampleSource
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesKey, SeriesSamples
from monitoring_core.slo import SampleStats, SeriesSliceStats

_MILLISECOND = timedelta(milliseconds=1)

GRID_STATS = (
    ("min", "min_over_time"),
    ("max", "max_over_time"),
    ("count", "count_over_time"),
    ("sum", "sum_over_time"),
)

DEFAULT_GRID_SLICES = 60
"""Ranges of at most this many slices are read on the grid, longer ones raw
(bench/sla_violations.py: at four samples per slice, raw costs a quarter of
the grid for 12 h; for a few slices, one grid query beats one raw query per
objective)."""


GRID_CHUNK = 12
"""Selectors per grid query: ``or`` costs Prometheus more than linearly in its
terms (four per selector; 200 tagged terms took 23 ms for a few slices, 50 took
4 ms), so many selectors go in several queries."""


class _Series(msgspec.Struct):
    metric: dict[str, str]
    values: list[tuple[float, float]] = []


class _TextSeries(msgspec.Struct):
    metric: dict[str, str]
    values: list[tuple[float, str]] = []


class _Data(msgspec.Struct):
    result: list[_Series]


class _TextData(msgspec.Struct):
    result: list[_TextSeries]


class _Answer(msgspec.Struct):
    data: _Data


class _TextAnswer(msgspec.Struct):
    data: _TextData


def decode_matrix(body: bytes) -> list[_Series]:
    """A matrix answer with float values.

    Values come as text; msgspec reads plain numbers and ``NaN`` as floats in
    C, and the rare ``+Inf``/``-Inf`` go the slow way.
    """
    try:
        return msgspec.json.decode(body, type=_Answer, strict=False).data.result
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError as exc:
        raise SourceUnavailable(f"Prometheus answered unreadable JSON: {exc}") from exc
    try:
        text = msgspec.json.decode(body, type=_TextAnswer).data.result
    except msgspec.MsgspecError as exc:
        raise SourceUnavailable(f"Prometheus answered unexpected JSON: {exc}") from exc
    return [
        _Series(metric=s.metric, values=[(t, float(v)) for t, v in s.values])
        for s in text
    ]


class PrometheusSampleSource(SampleSource):
    """Reads raw samples and slice figures from Prometheus.

    Args:
        http: the Prometheus connection.
        grid_slices: ranges of at most this many slices are summed up by
            Prometheus (the grid), longer ones are read raw; 0 reads everything
            raw.
    """

    def __init__(
        self, http: PrometheusHttp, grid_slices: int = DEFAULT_GRID_SLICES
    ) -> None:
        self._http = http
        self._grid_slices = grid_slices
        self._left_open: bool | None = None
        self._lock = threading.Lock()

    def samples(
        self, selector: Selector, start: datetime, end: datetime
    ) -> list[SeriesSamples]:
        """Every sample in ``[start, end)`` of every series the selector matches.

        A range vector ``selector[range]`` read with one instant query one
        millisecond before ``end`` holds those in ``[start, end)`` (Prometheus
        2 closes the range on both sides, 3 on the right only; the filter below
        makes both exact). No step, no lookback, no interpolation: the raw
        samples, without stale markers and NaN values.
        """
        return sorted(
            (
                SeriesSamples(key=key, samples=tuple(zip(times, values, strict=True)))
                for key, times, values in self._raw(selector, start, end)
            ),
            key=lambda s: s.key.canonical,
        )

    def _raw(
        self, selector: Selector, start: datetime, end: datetime
    ) -> list[tuple[SeriesKey, list[float], list[float]]]:
        """Each series' sample times and values in ``[start, end)``, NaN left out."""
        milliseconds = round((end - start) / _MILLISECOND)
        if milliseconds <= 0:
            return []
        form = {
            "query": f"{selector.to_promql()}[{milliseconds}ms]",
            "time": f"{(end - _MILLISECOND).timestamp():.3f}",
        }
        found = decode_matrix(self._http.post_body("query", form))
        lo, hi = start.timestamp(), end.timestamp()
        out = []
        for item in found:
            times = [t for t, _ in item.values]
            values = [v for _, v in item.values]
            if (times and not lo <= times[0] <= times[-1] < hi) or any(
                map(math.isnan, values)
            ):
                kept = [
                    (t, v) for t, v in item.values if lo <= t < hi and not math.isnan(v)
                ]
                times, values = [t for t, _ in kept], [v for _, v in kept]
            if times:
                out.append((SeriesKey.from_prometheus(item.metric), times, values))
        return out

    def slice_stats(
        self,
        selectors: Sequence[Selector],
        start: datetime,
        end: datetime,
        slice_seconds: int,
    ) -> list[list[SeriesSliceStats]]:
        """What each slice of ``[start, end)`` adds up to, for every selector.

        Selectors of one metric name and the same ``=`` labels are read as one
        (``merged_selectors``). Short ranges are read on the grid, every
        selector in one query; long ones raw, one query per merged selector.
        """
        lo, hi = start.timestamp(), end.timestamp()
        count = round((hi - lo) / slice_seconds)
        groups = merged_selectors(selectors)
        found: list[list[SeriesSliceStats] | None] = [None] * len(groups)
        if 0 < count <= self._grid_slices:
            named = [g for g, (s, _) in enumerate(groups) if s.metric_name]
            for first in range(0, len(named), GRID_CHUNK):
                chunk = named[first : first + GRID_CHUNK]
                grid = self.grid_stats(
                    [groups[g][0] for g in chunk], lo, slice_seconds, count
                )
                for g, answer in zip(chunk, grid, strict=True):
                    found[g] = answer
        out: list[list[SeriesSliceStats]] = [[] for _ in selectors]
        for (merged, indexes), answer in zip(groups, found, strict=True):
            if answer is None:
                answer = self.raw_stats(merged, lo, hi, slice_seconds)
            for series in answer:
                name, labels = series.key.name, series.key.label_map
                for i in indexes:
                    if selectors[i].matches(name, labels):
                        out[i].append(series)
        return out

    def raw_stats(
        self, selector: Selector, start: float, end: float, slice_seconds: int
    ) -> list[SeriesSliceStats]:
        """The slices summed up here from the raw samples, by series key."""
        count = round((end - start) / slice_seconds)
        edges = [start + k * slice_seconds for k in range(count + 1)]
        out = []
        for key, times, values in self._raw(selector, _at(start), _at(end)):
            cuts = [bisect.bisect_left(times, edge) for edge in edges]
            stats = tuple(
                _summed(values[a:b]) if b > a else None
                for a, b in itertools.pairwise(cuts)
            )
            out.append(SeriesSliceStats(key=key, stats=stats))
        return sorted(out, key=lambda s: s.key.canonical)

    def grid_stats(
        self,
        selectors: Sequence[Selector],
        start: float,
        slice_seconds: int,
        count: int,
    ) -> list[list[SeriesSliceStats] | None]:
        """The slices summed up by Prometheus, one query for every selector.

        Each selector needs a metric name (``*_over_time`` drops it). None for a
        selector with a NaN sample in the range: read it raw.
        """
        names = [s.metric_name for s in selectors]
        if any(n is None for n in names):
            raise ValueError("grid_stats needs selectors with a metric name")
        width = (
            f"{slice_seconds}s"
            if self._is_left_open()
            else f"{slice_seconds * 1000 - 1}ms"
        )
        terms = [
            f"label_replace({function}({selector.to_promql()}[{width}]), "
            f'"{STAT_LABEL}", "{i}:{stat}", "", "")'
            for i, selector in enumerate(selectors)
            for stat, function in GRID_STATS
        ]
        first = start + slice_seconds - 0.001
        form = {
            "query": union(terms),
            "start": f"{first:.3f}",
            "end": f"{first + (count - 1) * slice_seconds:.3f}",
            "step": str(slice_seconds),
        }
        parts: list[dict[tuple[tuple[str, str], ...], dict[str, list[float]]]] = [
            {} for _ in selectors
        ]
        for item in decode_matrix(self._http.post_body("query_range", form)):
            index, stat = item.metric.pop(STAT_LABEL).split(":")
            labels = tuple(sorted(item.metric.items()))
            column = (
                parts[int(index)]
                .setdefault(labels, {})
                .setdefault(stat, [math.nan] * count)
            )
            for t, v in item.values:
                column[round((t + 0.001 - start) / slice_seconds) - 1] = v
        return [
            _grid_series(name, part, count)
            for name, part in zip(names, parts, strict=True)
        ]

    def _is_left_open(self) -> bool:
        """Whether range vectors leave out their left edge (Prometheus 3 on)."""
        with self._lock:
            if self._left_open is None:
                version = str(self._http.get("status/buildinfo").get("version", ""))
                major = version.split(".", 1)[0]
                self._left_open = major.isdigit() and int(major) >= 3
            return self._left_open


def _at(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def _summed(values: Sequence[float]) -> SampleStats:
    return SampleStats(
        samples=len(values), minimum=min(values), maximum=max(values), total=sum(values)
    )


def _grid_series(
    name: str | None,
    part: dict[tuple[tuple[str, str], ...], dict[str, list[float]]],
    count: int,
) -> list[SeriesSliceStats] | None:
    out = []
    for labels, columns in part.items():
        if len(columns) != len(GRID_STATS):
            return None  # a figure missing where others are: read it raw
        lows, highs, counts, sums = (columns[stat] for stat, _ in GRID_STATS)
        if _nan_inside(lows, highs, counts, sums):
            return None
        stats = tuple(
            None
            if math.isnan(counts[k])
            else SampleStats(
                samples=int(counts[k]),
                minimum=lows[k],
                maximum=highs[k],
                total=sums[k],
            )
            for k in range(count)
        )
        out.append(
            SeriesSliceStats(key=SeriesKey.of(name or "", dict(labels)), stats=stats)
        )
    return sorted(out, key=lambda s: s.key.canonical)


def _nan_inside(
    lows: list[float], highs: list[float], counts: list[float], sums: list[float]
) -> bool:
    """Whether a measured slice has a NaN figure (a NaN sample in it)."""
    return any(
        not math.isnan(c) and (math.isnan(lo) or math.isnan(hi) or math.isnan(s))
        for lo, hi, c, s in zip(lows, highs, counts, sums, strict=True)
    )
