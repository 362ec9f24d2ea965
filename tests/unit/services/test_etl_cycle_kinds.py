"""The ETL cycle analyses and forecasts cumulative series as rates (ADR 0016)."""

from datetime import UTC, datetime

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from monitoring_core.forecasts import Forecast
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind, SeriesKey, ValueKind
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.settings import EtlSettings
from monitoring_core.windows import SeriesWindowStats
from tests.support.etl_cycles import in_memory_cycle

START = datetime(2026, 11, 26, 0, 0, tzinfo=UTC).timestamp()
COUNT = SeriesKey.of("rpc_seconds_count", {"instance": "a"})
BUCKET = SeriesKey.of("rpc_seconds_bucket", {"instance": "a", "le": "+Inf"})
QUANTILE = SeriesKey.of("gc_seconds", {"instance": "a", "quantile": "0.5"})
GC_COUNT = SeriesKey.of("gc_seconds_count", {"instance": "a"})


def _cycle(bus: InMemoryResultPublisher) -> EtlCycle:
    source = InMemoryMetricSource()
    times = [START + 15 * i for i in range(4 * 240)]
    growing = [(t, 1000 + 0.3 * (t - START)) for t in times]
    for key in (COUNT, BUCKET, GC_COUNT):
        source.add(key, growing)
    source.add(QUANTILE, [(t, 0.004) for t in times])
    settings = EtlSettings(
        selectors=(parse_selector('{instance="a"}'),),
        forecast_selectors=(parse_selector('{instance="a"}'),),
        windows=(3600,),
        forecast_lookback_seconds=3 * 3600,
        metadata_lookback_seconds=3 * 3600,
        metadata_step_seconds=60,
    )
    clock = FixedClock(datetime.fromtimestamp(START + 4 * 3600, UTC))
    return in_memory_cycle(source, clock, bus, settings)


def test_statistics_and_forecasts_of_cumulative_series_are_of_their_rate() -> None:
    bus = InMemoryResultPublisher()
    assert _cycle(bus).run().ok
    stats = {r.series: r for r in bus.results if isinstance(r, SeriesWindowStats)}
    forecasts = {r.series: r for r in bus.results if isinstance(r, Forecast)}
    assert set(stats) == set(forecasts) == {COUNT, BUCKET, QUANTILE, GC_COUNT}
    expected = {
        COUNT: (MetricKind.HISTOGRAM, ValueKind.PER_SECOND_RATE, 0.3),
        BUCKET: (MetricKind.HISTOGRAM, ValueKind.PER_SECOND_RATE, 0.3),
        GC_COUNT: (MetricKind.SUMMARY, ValueKind.PER_SECOND_RATE, 0.3),
        QUANTILE: (MetricKind.SUMMARY, ValueKind.VALUE, 0.004),
    }
    for key, (kind, value_kind, level) in expected.items():
        for result in (stats[key], forecasts[key]):
            assert (result.kind, result.value_kind) == (kind, value_kind)
        assert stats[key].windows[0].avg == pytest.approx(level)
        means = [p.mean for p in forecasts[key].points]
        assert means == pytest.approx([level] * len(means))
