"""A fixed set of series with known samples, shared by metric-source tests."""

import math
import random
import time

import attrs

from monitoring_core.series import MetricKind, SeriesKey

SCRAPE = 15
HOURS = 13


def last_sample_time() -> float:
    """A whole minute, two minutes ago, so every window is full."""
    return float((int(time.time()) // 60) * 60 - 120)


END = last_sample_time()
"""Last sample time of ``build()``'s series, fixed when this module is imported."""
AT = END + 7.5
"""Evaluation time between two scrapes, so no sample sits on a window edge."""

Samples = list[tuple[float, float]]


def _gauge(seed: int, start: float, end: float, level: float) -> Samples:
    rng = random.Random(seed)
    out = []
    t = start
    while t <= end:
        value = level + 3 * math.sin(2 * math.pi * t / 3600) + rng.gauss(0, 0.7)
        out.append((t, round(value, 6) if seed % 2 else value))
        t += SCRAPE
    return out


def _counter(start: float, end: float, per_scrape: float, reset_at: float) -> Samples:
    out, value, t = [], 1000.0, start
    while t <= end:
        value = per_scrape if t == reset_at else value + per_scrape
        out.append((t, value))
        t += SCRAPE
    return out


def build(end: float = END) -> dict[SeriesKey, tuple[MetricKind, Samples]]:
    """Every series of the dataset with its kind and samples, the last at ``end``."""
    begin = end - HOURS * 3600
    return {
        SeriesKey.of("test_gauge", {"instance": "a", "job": "t"}): (
            MetricKind.GAUGE,
            _gauge(1, begin, end, 10.0),
        ),
        SeriesKey.of("test_gauge", {"instance": "b", "job": "t"}): (
            MetricKind.GAUGE,
            _gauge(2, end - 2 * 3600, end, -5.0),
        ),
        SeriesKey.of("test_gauge", {"instance": "c", "job": "t"}): (
            MetricKind.GAUGE,
            _gauge(3, begin, end - 4 * 3600, 1e6),
        ),
        SeriesKey.of("test_other", {"instance": "a", "job": "t"}): (
            MetricKind.GAUGE,
            _gauge(4, begin, end, 0.001),
        ),
        SeriesKey.of("test_requests_total", {"instance": "a", "job": "t"}): (
            MetricKind.COUNTER,
            _counter(begin, end, 2.0, reset_at=end - 30 * 60),
        ),
    }


@attrs.frozen
class LiveDataset:
    """The dataset ending just before a test module started, on a Prometheus."""

    url: str
    data: dict[SeriesKey, tuple[MetricKind, Samples]]


RATE_PER_SECOND = 2.0 / SCRAPE
"""The true rate of the test counter."""


def to_openmetrics(dataset: dict[SeriesKey, tuple[MetricKind, Samples]]) -> str:
    """The dataset as OpenMetrics text for ``promtool tsdb create-blocks-from``."""
    lines: list[str] = []
    by_family: dict[str, list[SeriesKey]] = {}
    for key in dataset:
        by_family.setdefault(key.name, []).append(key)
    for name, keys in by_family.items():
        kind = dataset[keys[0]][0]
        family = name.removesuffix("_total") if kind is MetricKind.COUNTER else name
        lines.append(f"# TYPE {family} {kind.value}")
        for key in keys:
            labels = ",".join(f'{k}="{v}"' for k, v in key.labels)
            lines += [f"{name}{{{labels}}} {v!r} {t}" for t, v in dataset[key][1]]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
