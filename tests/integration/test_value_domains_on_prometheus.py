"""No negative forecast of node_load1 or of CPU counter rates on a real Prometheus.

One ETL cycle through the real PrometheusMetricSource and the real forecaster,
on the local Prometheus that scrapes a node-exporter every 5 s. The grid is
5 s so that a Prometheus started minutes ago has enough history.
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.forecasting.ets import VectorizedEtsForecaster
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metadata_analyzer import InMemoryMetadataAnalyzer
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.telemetry import InMemoryEtlTelemetry
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from monitoring_core.forecasts import Forecast
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.settings import EtlSettings
from tests.support.servers import server

STEP = 5
SELECTORS = (parse_selector("node_load1"), parse_selector("node_cpu_seconds_total"))
SETTINGS = EtlSettings(
    selectors=SELECTORS,
    forecast_selectors=SELECTORS,
    windows=(300,),
    horizon_seconds=60,
    forecast_step_seconds=STEP,
    forecast_lookback_seconds=300,
)


@pytest.fixture(scope="module")
def http() -> Iterator[PrometheusHttp]:
    """The local Prometheus, once it holds 2.5 minutes of node_load1."""
    with server("PROMETHEUS_URL") as url:
        http = PrometheusHttp(url, 30)
        deadline = time.monotonic() + 240
        while True:
            found = http.query("count_over_time(node_load1[300s])", datetime.now(UTC))
            if found and float(found[0]["value"][1]) >= 30:
                break
            assert time.monotonic() < deadline, "node_load1 is not being scraped"
            time.sleep(STEP)
        yield http


@pytest.fixture(scope="module")
def cycle_output(http: PrometheusHttp) -> tuple[list[Forecast], dict[str, Forecast]]:
    """The forecasts one cycle published, and the forecaster's own on its history."""
    source = PrometheusMetricSource(http, rate_seconds=20, resolution_seconds=STEP)
    # In the past, so that both reads below see the same, complete samples.
    clock = FixedClock(datetime.now(UTC) - timedelta(seconds=3 * STEP))
    bus = InMemoryResultPublisher(100_000)
    cycle = EtlCycle(
        source=source,
        publisher=bus,
        forecaster=VectorizedEtsForecaster(),
        metadata=MetadataJob(source, InMemoryMetadataAnalyzer(), SETTINGS),
        telemetry=InMemoryEtlTelemetry(),
        clock=clock,
        settings=SETTINGS,
    )
    run = cycle.run()
    assert run.ok, run.errors
    at = clock.now()
    end = datetime.fromtimestamp(at.timestamp() // STEP * STEP, UTC)
    start = end - timedelta(seconds=SETTINGS.forecast_lookback_seconds)
    infos = source.discover(SELECTORS, at - timedelta(seconds=300), at)
    assert {i.kind for i in infos if i.key.name == "node_cpu_seconds_total"} == {
        MetricKind.COUNTER
    }
    histories = source.history(infos, start, end, STEP)
    raw = VectorizedEtsForecaster().forecast(histories, SETTINGS.horizon_steps, at, {})
    published = [r for r in bus.results if isinstance(r, Forecast)]
    return published, {f.series.id: f for f in raw}


def test_every_load_and_cpu_rate_forecast_stays_at_or_above_zero(
    cycle_output: tuple[list[Forecast], dict[str, Forecast]],
) -> None:
    published, _ = cycle_output
    names = {f.series.name for f in published}
    assert names == {"node_load1", "node_cpu_seconds_total"}
    for forecast in published:
        for p in forecast.points:
            lowest = min(p.mean, p.lower_80, p.lower_95, p.upper_80, p.upper_95)
            assert lowest >= 0, (forecast.series.canonical, p)
        assert forecast.predicted_min >= 0


def test_the_forecaster_alone_would_have_gone_below_zero(
    cycle_output: tuple[list[Forecast], dict[str, Forecast]],
) -> None:
    # Idle-ish CPU modes (irq, softirq, iowait) have rates near 0 with noise:
    # their symmetric intervals reach below zero before the value domain.
    published, raw = cycle_output
    below = [
        f.series.canonical
        for f in published
        if min(p.lower_95 for p in raw[f.series.id].points) < 0
    ]
    assert below, "no unclamped forecast went below zero: the test proves nothing"
    for forecast in published:
        unclamped = raw[forecast.series.id]
        for before, after in zip(unclamped.points, forecast.points, strict=True):
            assert after.upper_95 == max(0.0, before.upper_95)
            assert after.lower_95 == max(0.0, before.lower_95)
