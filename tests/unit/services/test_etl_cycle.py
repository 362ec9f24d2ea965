"""The ETL cycle on in-memory adapters: what it publishes and how it fails."""

import math
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.forecaster import InMemoryForecaster
from adapters.in_memory.metadata_analyzer import InMemoryMetadataAnalyzer
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.telemetry import InMemoryEtlTelemetry
from monitoring_core.errors import SourceUnavailable
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.runs import EtlRun, Step
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.settings import EtlSettings
from monitoring_core.windows import SeriesWindowStats

START = datetime(2026, 11, 26, 0, 0, tzinfo=UTC).timestamp()
LOAD = SeriesKey.of("node_load1", {"instance": "a"})
CPU = SeriesKey.of("node_cpu_seconds_total", {"instance": "a", "cpu": "0"})


def _samples(hours: float, f: Callable[[float], float]) -> list[tuple[float, float]]:
    return [(START + i * 15, f(START + i * 15)) for i in range(int(hours * 240))]


class World:
    def __init__(self, capacity: int = 1000, empty: bool = False) -> None:
        self.clock = FixedClock(datetime.fromtimestamp(START + 6 * 3600, UTC))
        self.source = InMemoryMetricSource()
        if not empty:
            self.source.add(LOAD, _samples(8, lambda t: 2 + math.sin(t / 600)))
            self.source.add(
                CPU, _samples(8, lambda t: (t - START) * 0.5), MetricKind.COUNTER
            )
        self.bus = InMemoryResultPublisher(capacity)
        self.telemetry = InMemoryEtlTelemetry()
        self.settings = EtlSettings(
            selectors=(parse_selector('{instance="a"}'),),
            forecast_selectors=(parse_selector("node_load1"),),
            windows=(3600, 10800),
            forecast_lookback_seconds=3 * 3600,
            metadata_lookback_seconds=6 * 3600,
            metadata_step_seconds=60,
        )
        self.targets: list[str] = []
        self.cycle = EtlCycle(
            source=self.source,
            publisher=self.bus,
            forecaster=InMemoryForecaster(),
            metadata=MetadataJob(
                self.source, InMemoryMetadataAnalyzer(), self.settings
            ),
            telemetry=self.telemetry,
            clock=self.clock,
            settings=self.settings,
            targets=self._targets,
        )

    def _targets(self) -> list:  # type: ignore[type-arg]
        if self.targets == ["fail"]:
            raise SourceUnavailable("sla manager down")
        return [parse_selector(t) for t in self.targets]

    def of_type(self, kind: type) -> list:  # type: ignore[type-arg]
        return [r for r in self.bus.results if isinstance(r, kind)]


@pytest.fixture
def world() -> World:
    return World()


def test_a_cycle_publishes_stats_forecasts_and_its_own_record(world: World) -> None:
    run = world.cycle.run()
    assert run.ok, run.errors
    stats = {s.series: s for s in world.of_type(SeriesWindowStats)}
    assert set(stats) == {LOAD, CPU}
    assert stats[CPU].kind is MetricKind.COUNTER
    assert stats[CPU].windows[0].avg == pytest.approx(0.5)
    assert [w.window_seconds for w in stats[LOAD].windows] == [3600, 10800]
    (forecast,) = world.of_type(Forecast)
    assert forecast.series == LOAD and len(forecast.points) == 10
    assert world.bus.results[-1] == run
    assert {t.step for t in run.steps} == {
        Step.DISCOVERY,
        Step.WINDOW_STATS,
        Step.FORECAST,
        Step.SCORING,
        Step.PUBLISH,
    }
    assert run.series_count == 2 and run.results_published == 3


def test_windows_trail_the_clock_every_cycle(world: World) -> None:
    world.cycle.run()
    world.clock.advance(3600)
    world.cycle.run()
    first, second = [s for s in world.of_type(SeriesWindowStats) if s.series == LOAD]
    assert (second.at - first.at).total_seconds() == 3600
    assert first.windows[0].avg != second.windows[0].avg
    assert second.windows[0].last_timestamp == pytest.approx(
        world.clock.now().timestamp(), abs=15
    )


def test_metadata_runs_when_asked_and_then_hints_the_forecaster(world: World) -> None:
    world.cycle.run(include_metadata=True)
    metadata = world.of_type(SeriesMetadata)
    assert {m.series for m in metadata} == {LOAD, CPU}
    only = World()
    record = only.cycle.run(include_metadata=True, analysis=False)
    assert {t.step for t in record.steps} == {
        Step.DISCOVERY,
        Step.METADATA,
        Step.PUBLISH,
    }
    assert not only.of_type(SeriesWindowStats)


def test_a_forecast_is_scored_once_its_horizon_has_passed(world: World) -> None:
    world.cycle.run()
    world.clock.advance(300)
    world.cycle.run()
    assert not world.of_type(ForecastScore)
    world.clock.advance(300)
    world.cycle.run()
    (score,) = world.of_type(ForecastScore)
    first = world.of_type(Forecast)[0]
    assert score.forecast_made_at == first.made_at
    assert score.points_compared == 10
    assert 0 <= score.coverage_80 <= score.coverage_95 <= 1
    assert len(world.cycle.ledger) == 2


def test_prometheus_down_fails_the_cycle_but_not_the_next(world: World) -> None:
    world.source.available = False
    failed = world.cycle.run()
    assert not failed.ok
    assert failed.errors == ["discovery: in-memory source switched off"]
    assert world.telemetry.failures(Step.DISCOVERY) == 1
    assert world.bus.results[-1] == failed
    world.source.available = True
    assert world.cycle.run().ok


def test_a_full_bus_is_recorded_as_a_publish_failure() -> None:
    world = World(capacity=1)
    run = world.cycle.run()
    assert not run.ok
    assert any(e.startswith("publish: bus full") for e in run.errors)


def test_forecast_targets_add_series_and_survive_an_outage(world: World) -> None:
    world.targets = ["node_cpu_seconds_total"]
    world.cycle.run()
    assert {f.series for f in world.of_type(Forecast)} == {LOAD, CPU}
    world.targets = ["fail"]
    world.bus.drain()
    run = world.cycle.run()
    assert run.ok
    assert {f.series for f in world.of_type(Forecast)} == {LOAD, CPU}


def test_the_run_record_is_published_even_when_nothing_else_is() -> None:
    world = World(empty=True)
    run = world.cycle.run()
    assert run.ok and run.series_count == 0
    assert world.bus.results == [run]
    assert isinstance(world.bus.results[0], EtlRun)
