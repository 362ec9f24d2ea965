"""Histograms and summaries on a live Prometheus are analysed as rates (ADR 0016).

The live Prometheus scrapes itself and node-exporter every 5 s: its own
``prometheus_http_request_duration_seconds`` is a real histogram and both
jobs' ``go_gc_duration_seconds`` a real summary. The reference statistics are
PromQL written here, independently of the adapter's query builder.
"""

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind, SeriesInfo, SeriesKey, ValueKind
from monitoring_core.windows import SeriesWindowStats
from tests.support.servers import server

HISTOGRAM = "prometheus_http_request_duration_seconds"
SUMMARY = "go_gc_duration_seconds"
CUMULATIVE = [
    *(f"{HISTOGRAM}_{suffix}" for suffix in ("bucket", "count", "sum")),
    *(f"{SUMMARY}_{suffix}" for suffix in ("count", "sum")),
]
WINDOWS = (120, 300)
RATE, RESOLUTION = 60, 15
STATS = ("min", "max", "avg", "stddev", "last", "count")


@pytest.fixture(scope="module")
def http() -> Iterator[PrometheusHttp]:
    with server("PROMETHEUS_URL") as url:
        yield PrometheusHttp(url, 30)


@pytest.fixture(scope="module")
def at() -> datetime:
    """An instant every scrape before it has surely been stored."""
    now = datetime.now(UTC) - timedelta(seconds=15)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@pytest.fixture(scope="module")
def found(http: PrometheusHttp, at: datetime) -> list[SeriesInfo]:
    source = PrometheusMetricSource(http)
    selectors = [parse_selector(n) for n in [*CUMULATIVE, SUMMARY]]
    return source.discover(selectors, at - timedelta(seconds=60), at)


@pytest.fixture(scope="module")
def stats(
    http: PrometheusHttp, found: list[SeriesInfo], at: datetime
) -> dict[SeriesKey, SeriesWindowStats]:
    source = PrometheusMetricSource(http, RATE, RESOLUTION)
    return {s.series: s for s in source.window_stats(found, WINDOWS, at)}


def _reference(http: PrometheusHttp, name: str, at: datetime) -> dict[str, float]:
    """Prometheus' own statistic of every series of ``name``, by ``key|stat:w``."""
    out = {}
    for window in WINDOWS:
        if name == SUMMARY:
            ranged = f"{name}[{window}s]"
        else:
            ranged = f"rate({name}[{RATE}s])[{window}s:{RESOLUTION}s]"
        for stat in STATS:
            for item in http.query(f"{stat}_over_time({ranged})", at):
                key = SeriesKey.of(name, item["metric"])
                out[f"{key.canonical}|{stat}:{window}"] = float(item["value"][1])
    for item in http.query(f"timestamp({name})", at):
        out[f"{SeriesKey.of(name, item['metric']).canonical}|last_ts"] = float(
            item["value"][1]
        )
    return out


def _same(got: float | None, expected: float) -> bool:
    if got is None:
        return False
    if math.isnan(expected):
        return math.isnan(got)
    return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)


def test_no_bucket_count_or_sum_series_is_analysed_as_a_raw_value(
    found: list[SeriesInfo],
) -> None:
    by_name: dict[str, set[tuple[MetricKind, ValueKind]]] = {}
    for info in found:
        by_name.setdefault(info.key.name, set()).add((info.kind, info.value_kind))
    rate = ValueKind.PER_SECOND_RATE
    assert by_name == {
        f"{HISTOGRAM}_bucket": {(MetricKind.HISTOGRAM, rate)},
        f"{HISTOGRAM}_count": {(MetricKind.HISTOGRAM, rate)},
        f"{HISTOGRAM}_sum": {(MetricKind.HISTOGRAM, rate)},
        f"{SUMMARY}_count": {(MetricKind.SUMMARY, rate)},
        f"{SUMMARY}_sum": {(MetricKind.SUMMARY, rate)},
        SUMMARY: {(MetricKind.SUMMARY, ValueKind.VALUE)},
    }
    jobs = {i.key.label_map["job"] for i in found if i.key.name == SUMMARY}
    assert len(jobs) == 2, "both Prometheus and node-exporter expose the summary"


@pytest.mark.parametrize("name", [*CUMULATIVE, SUMMARY])
def test_statistics_equal_prometheus_own_over_time_of_the_rate_or_value(
    http: PrometheusHttp,
    found: list[SeriesInfo],
    stats: dict[SeriesKey, SeriesWindowStats],
    at: datetime,
    name: str,
) -> None:
    reference = _reference(http, name, at)
    keys = {i.key for i in found if i.key.name == name}
    assert keys and {k for k in stats if k.name == name} == keys
    compared = 0
    for key in keys:
        for window in stats[key].windows:
            for stat in STATS:
                expected = reference[f"{key.canonical}|{stat}:{window.window_seconds}"]
                got = getattr(window, stat)
                assert _same(got, expected), (key.canonical, stat, got, expected)
                compared += 1
            assert window.last_timestamp == reference[f"{key.canonical}|last_ts"]
    assert compared == len(keys) * len(WINDOWS) * len(STATS)


@pytest.mark.parametrize("name", [f"{HISTOGRAM}_count", f"{SUMMARY}_sum", SUMMARY])
def test_histories_equal_prometheus_own_rate_or_value_on_the_same_grid(
    http: PrometheusHttp, found: list[SeriesInfo], at: datetime, name: str
) -> None:
    step = 15
    end = datetime.fromtimestamp(at.timestamp() // step * step, UTC)
    start = end - timedelta(minutes=3)
    source = PrometheusMetricSource(http, RATE, RESOLUTION)
    members = [i for i in found if i.key.name == name]
    histories = {h.series: h for h in source.history(members, start, end, step)}
    expr = name if name == SUMMARY else f"rate({name}[{RATE}s])"
    reference = http.query_range(expr, start.timestamp(), end.timestamp(), step)
    assert len(reference) == len(members) == len(histories)
    for item in reference:
        history = histories[SeriesKey.of(name, item["metric"])]
        expected = {float(t): float(v) for t, v in item["values"]}
        got = dict(zip(history.timestamps(), history.values, strict=True))
        assert {t for t, v in got.items() if not math.isnan(v)} == set(expected)
        for t, value in expected.items():
            assert _same(got[t], value), (name, t, got[t], value)


def test_no_series_of_the_live_prometheus_with_a_cumulative_suffix_is_a_value(
    http: PrometheusHttp, at: datetime
) -> None:
    every = parse_selector('{__name__=~".+"}')
    found = PrometheusMetricSource(http).discover(
        [every], at - timedelta(minutes=1), at
    )
    suffixed = [i for i in found if i.key.name.endswith(("_bucket", "_count", "_sum"))]
    assert len(suffixed) > 100, "Prometheus and node-exporter expose many"
    assert {i.value_kind for i in suffixed} == {ValueKind.PER_SECOND_RATE}
    assert {i.kind for i in suffixed} <= {
        MetricKind.HISTOGRAM,
        MetricKind.SUMMARY,
        MetricKind.COUNTER,
    }
