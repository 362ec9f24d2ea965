"""Prometheus' answers to the adapter's queries, read into domain objects."""

import logging
import math
from collections.abc import Sequence
from datetime import datetime

from adapters.prometheus.client import JsonObject
from adapters.prometheus.promql import NAME_LABEL, STAT_LABEL
from monitoring_core.series import SeriesHistory, SeriesInfo, SeriesKey
from monitoring_core.windows import SeriesWindowStats, WindowStats

# Logged under the metric source: its calls are what skip the series.
log = logging.getLogger("adapters.prometheus.metric_source")


def skipped_natives(native: set[SeriesKey], what: str) -> None:
    """Native histogram samples have no single value to analyse (ADR 0016)."""
    if native:
        log.warning(
            "%s: skipped %d native histogram series (not analysed, ADR 0016)",
            what,
            len(native),
        )


def answer_key(metric: dict[str, str]) -> SeriesKey:
    """The series of an answer item (its name from ``NAME_LABEL`` when tagged)."""
    name = metric.get(NAME_LABEL) or metric["__name__"]
    labels = {k: v for k, v in metric.items() if k not in (STAT_LABEL, NAME_LABEL)}
    return SeriesKey.of(name, labels)


def to_history(
    key: SeriesKey, item: JsonObject, t0: float, step: int, n: int
) -> SeriesHistory:
    """A range answer on the grid of ``n`` steps from ``t0``; NaN where missing."""
    grid = [math.nan] * n
    for ts, text in item["values"]:
        index = round((float(ts) - t0) / step)
        if 0 <= index < n:
            grid[index] = float(text)
    return SeriesHistory(series=key, start=t0, step_seconds=step, values=tuple(grid))


def to_stats(
    info: SeriesInfo, values: dict[str, float], windows: Sequence[int], at: datetime
) -> SeriesWindowStats:
    """The tagged statistics ``"<stat>:<window>"`` of one series."""
    last_ts = values.get("last_ts")
    return SeriesWindowStats(
        series=info.key,
        kind=info.kind,
        at=at,
        windows=tuple(_window(values, w, last_ts) for w in windows),
    )


def _window(
    values: dict[str, float], window: int, last_ts: float | None
) -> WindowStats:
    def get(stat: str) -> float | None:
        return values.get(f"{stat}:{window}")

    count = int(get("count") or 0)
    return WindowStats(
        window_seconds=window,
        count=count,
        min=get("min"),
        max=get("max"),
        avg=get("avg"),
        stddev=get("stddev"),
        last=get("last"),
        last_timestamp=last_ts if count else None,
    )
