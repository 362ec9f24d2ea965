"""No negative forecast for a series that cannot be negative (ADR 0017).

The ETL cycle runs on in-memory adapters with the real vectorised forecaster;
each case first shows that the unclamped forecast of the same history does go
below zero, so the assertions on the published forecasts prove something.
"""

import random
from datetime import UTC, datetime, timedelta

import pytest

from adapters.forecasting.ets import VectorizedEtsForecaster
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metadata_analyzer import InMemoryMetadataAnalyzer
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.in_memory.telemetry import InMemoryEtlTelemetry
from monitoring_core.forecasts import Forecast, ForecastScore, score_forecast
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind, SeriesInfo, SeriesKey
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.settings import EtlSettings
from monitoring_core.services.sla_predictions import SeriesPrediction
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from monitoring_core.slo import AllowedRange, Side, predict
from tests.support.sla_services import sla_services

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC).timestamp()
HOURS = 6
END = START + HOURS * 3600
LOAD = SeriesKey.of("node_load1", {"instance": "a"})  # decays towards 0
ERRORS = SeriesKey.of("http_errors_total", {"instance": "a"})  # rare increments
CELSIUS = SeriesKey.of("outdoor_celsius", {"instance": "a"})  # may be negative


def _load(t: float, noise: random.Random) -> float:
    # From 1.5 down to about 0.02 at END: a damped trend extrapolates below 0.
    return max(0.0, 1.5 * (END - t) / (HOURS * 3600) + 0.02 + noise.gauss(0, 0.01))


def _sources() -> InMemoryMetricSource:
    source = InMemoryMetricSource()
    times = [START + i * 15 for i in range(HOURS * 240 + 60)]  # 15 min past END
    noise = random.Random(7)
    source.add(LOAD, [(t, _load(t, noise)) for t in times])
    count, errors = 0.0, []
    for t in times:
        count += noise.random() < 0.05  # an error now and then: rate near 0
        errors.append((t, count))
    source.add(ERRORS, errors, MetricKind.COUNTER)
    source.add(CELSIUS, [(t, 0.5 - (t - START) / 3600) for t in times])
    return source


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(datetime.fromtimestamp(END, UTC))
        self.source = _sources()
        self.bus = InMemoryResultPublisher(10_000)
        self.settings = EtlSettings(
            selectors=(parse_selector('{instance="a"}'),),
            forecast_selectors=(parse_selector('{instance="a"}'),),
            windows=(3600,),
            forecast_lookback_seconds=HOURS * 3600 - 600,
        )
        self.cycle = EtlCycle(
            source=self.source,
            publisher=self.bus,
            forecaster=VectorizedEtsForecaster(),
            metadata=MetadataJob(
                self.source, InMemoryMetadataAnalyzer(), self.settings
            ),
            telemetry=InMemoryEtlTelemetry(),
            clock=self.clock,
            settings=self.settings,
        )

    def published(self) -> dict[SeriesKey, Forecast]:
        return {r.series: r for r in self.bus.results if isinstance(r, Forecast)}

    def unclamped(self) -> dict[SeriesKey, Forecast]:
        """The forecaster's own answer on the history the cycle used."""
        at = self.clock.now()
        end = at - timedelta(seconds=at.timestamp() % 60)
        start = end - timedelta(seconds=self.settings.forecast_lookback_seconds)
        infos = self.source.discover(self.settings.forecast_selectors, start, at)
        histories = self.source.history(infos, start, end, 60)
        raw = VectorizedEtsForecaster().forecast(histories, 10, at, {})
        return {f.series: f for f in raw}


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    assert world.cycle.run().ok
    return world


def _lowest(forecast: Forecast) -> float:
    return min(min(p.mean, p.lower_80, p.lower_95) for p in forecast.points)


@pytest.mark.parametrize("key", [LOAD, ERRORS], ids=["gauge", "counter_rate"])
def test_a_non_negative_series_gets_no_negative_mean_or_bound(
    world: World, key: SeriesKey
) -> None:
    raw, published = world.unclamped()[key], world.published()[key]
    assert _lowest(raw) < 0  # the forecaster alone would go below zero
    assert _lowest(published) >= 0
    assert min(published.predicted_min, published.predicted_avg) >= 0
    for before, after in zip(raw.points, published.points, strict=True):
        assert after.timestamp == before.timestamp
        assert after.mean == max(0.0, before.mean)
        assert after.lower_95 == max(0.0, before.lower_95)
        assert after.upper_95 == max(0.0, before.upper_95)


def test_the_decaying_load_forecast_itself_went_below_zero(world: World) -> None:
    assert min(p.mean for p in world.unclamped()[LOAD].points) < 0
    assert min(p.mean for p in world.published()[LOAD].points) == 0.0


def test_a_gauge_that_was_negative_keeps_its_negative_forecast(world: World) -> None:
    raw, published = world.unclamped()[CELSIUS], world.published()[CELSIUS]
    assert published.points == raw.points
    assert _lowest(published) < 0


def test_clamped_forecasts_are_scored_no_worse_than_unclamped() -> None:
    later = World()
    later.cycle.run()
    raw = later.unclamped()
    later.clock.advance(660)
    later.cycle.run()
    scores = {r.series: r for r in later.bus.results if isinstance(r, ForecastScore)}
    assert set(scores) == {LOAD, ERRORS, CELSIUS}
    at = later.clock.now()
    (actual,) = later.source.history(
        [SeriesInfo(LOAD, MetricKind.GAUGE)], at - timedelta(minutes=11), at, 60
    )
    unclamped = score_forecast(raw[LOAD], actual, at)
    assert unclamped is not None
    clamped = scores[LOAD]
    assert clamped.points_compared == unclamped.points_compared == 10
    # Nothing below 0 can occur: coverage is kept (or gained, by an actual 0
    # that a bound raised to 0 now reaches) and the error can only shrink.
    assert clamped.coverage_80 >= unclamped.coverage_80
    assert clamped.coverage_95 >= unclamped.coverage_95
    assert clamped.mae < unclamped.mae


def _predict_lo_zero(world: World, selector: str) -> SeriesPrediction:
    """An SLA ``lo: 0`` on the selected series, judged on the cycle's forecasts."""
    store = InMemoryResultStore()
    store.write(list(world.published().values()))
    manager = sla_services(
        repository=InMemorySlaRepository(world.clock),
        source=world.source,
        samples=world.source,
        forecasts=store,
        clock=world.clock,
    )
    objective = ObjectiveDraft(selector=selector, lo=0, hi=4, target=0.99, window="1h")
    manager.definitions.apply(SlaDraft(name="floor", objectives=(objective,)))
    (result,) = manager.predictions.predict("floor", 600).objectives
    (series,) = result.series
    assert series.prediction is not None
    return series


def test_an_sla_lo_of_zero_gets_no_predicted_bad_slice_from_below(
    world: World,
) -> None:
    series = _predict_lo_zero(world, "node_load1")
    assert series.prediction is not None
    slices = series.prediction.slices
    assert len(slices) == 10
    assert all(s.probability == 0.0 and s.side is None for s in slices)
    assert series.prediction.eta is None
    # The same clamped points without the floor: calibrated quantiles hold a
    # point mass at 0, and a value on the bound is good, so even then nothing
    # is predicted below (a Gaussian reading would call the lower side likely
    # bad: tests/unit/core/test_value_domains.py keeps the floor for that).
    naive = predict(
        world.published()[LOAD].points,
        AllowedRange(lo=0.0, hi=4.0),
        now=slices[0].start,
        horizon_seconds=600,
        slice_seconds=60,
        past=(),
        window_seconds=3600,
        target=0.99,
    )
    assert naive.eta is None
    assert all(s.side is not Side.BELOW for s in naive.slices)


def test_a_series_seen_below_zero_is_still_predicted_below_zero(world: World) -> None:
    series = _predict_lo_zero(world, "outdoor_celsius")
    assert series.prediction is not None
    eta = series.prediction.eta
    assert eta is not None and eta.side is Side.BELOW
    assert series.prediction.slices[0].mean < 0
