"""The ETL cycle with a durable state (ADR 0047): a restarted cycle scores the
forecasts its predecessor made and forecasts the SLA set its predecessor got,
writes the ledger once per cycle, stays bounded, and goes on when the store
fails."""

import math
from datetime import UTC, datetime

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.etl_state import InMemoryEtlState
from adapters.in_memory.forecaster import InMemoryForecaster
from adapters.in_memory.metadata_analyzer import InMemoryMetadataAnalyzer
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.telemetry import InMemoryEtlTelemetry
from monitoring_core.errors import SlaManagerUnavailable
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.ports import ForecastTargets
from monitoring_core.selectors import Selector, parse_selector
from monitoring_core.series import SeriesKey
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.settings import EtlSettings

START = datetime(2026, 11, 26, 0, 0, tzinfo=UTC).timestamp()
LOAD = SeriesKey.of("node_load1", {"instance": "a"})
DISK = SeriesKey.of("disk_free_ratio", {"instance": "a"})
SETTINGS = EtlSettings(
    selectors=(parse_selector('{instance="a"}'),),
    forecast_selectors=(parse_selector("node_load1"),),
    windows=(3600,),
    forecast_lookback_seconds=3 * 3600,
)


def _source() -> InMemoryMetricSource:
    source = InMemoryMetricSource()
    times = [START + 15 * i for i in range(8 * 240)]
    source.add(LOAD, [(t, 2 + math.sin(t / 600)) for t in times])
    source.add(DISK, [(t, 0.5 + 0.1 * math.cos(t / 900)) for t in times])
    return source


class Sla:
    """The SLA manager as the ETL sees it: a target set, or down."""

    def __init__(self, *selectors: str) -> None:
        self.selectors = [parse_selector(s) for s in selectors]
        self.down = False

    def __call__(self) -> list[Selector]:
        if self.down:
            raise SlaManagerUnavailable("sla manager down")
        return self.selectors


class Etl:
    """One ETL process: a cycle on a shared source, clock and state."""

    def __init__(
        self,
        clock: FixedClock,
        state: InMemoryEtlState | None,
        targets: ForecastTargets | None = None,
        source: InMemoryMetricSource | None = None,
    ) -> None:
        self.bus = InMemoryResultPublisher(10_000)
        source = source or _source()
        self.cycle = EtlCycle(
            source=source,
            publisher=self.bus,
            forecaster=InMemoryForecaster(),
            metadata=MetadataJob(source, InMemoryMetadataAnalyzer(), SETTINGS),
            telemetry=InMemoryEtlTelemetry(),
            clock=clock,
            settings=SETTINGS,
            targets=targets,
            state=state,
        )

    def scores(self) -> list[ForecastScore]:
        return [r for r in self.bus.results if isinstance(r, ForecastScore)]

    def forecast_series(self) -> set[SeriesKey]:
        return {r.series for r in self.bus.results if isinstance(r, Forecast)}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.fromtimestamp(START + 6 * 3600, UTC))


def test_a_restarted_cycle_scores_its_predecessors_forecasts_as_if_never_stopped(
    clock: FixedClock,
) -> None:
    state = InMemoryEtlState()
    first, steady = Etl(clock, state), Etl(clock, None)
    assert first.cycle.run().ok and steady.cycle.run().ok
    assert len(state.pending_forecasts()) == 1
    clock.advance(660)  # past the 10-minute horizon
    restarted = Etl(clock, state)  # the first one was killed
    assert len(restarted.cycle.ledger) == 1
    restarted.cycle.run()
    steady.cycle.run()
    assert restarted.scores() == steady.scores()
    assert len(restarted.scores()) == 1
    # Scored, so forgotten; the new cycle's forecast is what is kept now.
    (kept,) = state.pending_forecasts()
    assert kept.made_at > restarted.scores()[0].forecast_made_at


def test_without_a_state_a_restart_loses_the_pending_scores(clock: FixedClock) -> None:
    Etl(clock, None).cycle.run()
    clock.advance(660)
    restarted = Etl(clock, None)
    restarted.cycle.run()
    assert restarted.scores() == []


def test_the_ledger_is_written_once_per_cycle(clock: FixedClock) -> None:
    state = InMemoryEtlState()
    etl = Etl(clock, state)
    for _ in range(6):
        before = state.writes
        etl.cycle.run()
        assert state.writes - before == 1
        clock.advance(300)
    assert etl.scores()  # forecasts were both added and removed on the way
    # A metadata-only cycle changes nothing, so it writes nothing.
    before = state.writes
    etl.cycle.run(include_metadata=True, analysis=False)
    assert state.writes == before


def test_forecasts_of_a_vanished_series_expire_from_the_state(
    clock: FixedClock,
) -> None:
    state = InMemoryEtlState()
    Etl(clock, state).cycle.run()
    assert len(state.pending_forecasts()) == 1
    clock.advance(SETTINGS.forecast_lookback_seconds + 60)
    empty = InMemoryMetricSource()  # its series is gone
    Etl(clock, state, source=empty).cycle.run()
    assert state.pending_forecasts() == []


def test_a_restart_while_the_sla_manager_is_down_keeps_forecasting_the_sla_set(
    clock: FixedClock,
) -> None:
    state = InMemoryEtlState()
    sla = Sla("disk_free_ratio")
    Etl(clock, state, sla).cycle.run()
    assert state.forecast_targets() == sla.selectors
    sla.down = True
    clock.advance(300)
    restarted = Etl(clock, state, sla)
    assert restarted.cycle.run().ok
    assert restarted.forecast_series() == {LOAD, DISK}
    # Without a saved set the same restart forecasts only the fixed selectors.
    forgetful = Etl(clock, None, sla)
    forgetful.cycle.run()
    assert forgetful.forecast_series() == {LOAD}


def test_a_changed_sla_set_is_saved_and_an_unchanged_one_is_not_rewritten(
    clock: FixedClock,
) -> None:
    state = InMemoryEtlState()
    sla = Sla("disk_free_ratio")
    etl = Etl(clock, state, sla)
    etl.cycle.run()
    writes = state.writes
    etl.cycle.run()
    assert state.writes == writes + 1  # the ledger only
    sla.selectors = []
    etl.cycle.run()
    assert state.forecast_targets() == []
    assert state.writes == writes + 3


def test_a_saved_set_is_ignored_when_no_sla_manager_is_configured(
    clock: FixedClock,
) -> None:
    state = InMemoryEtlState()
    state.save_forecast_targets([parse_selector("disk_free_ratio")])
    etl = Etl(clock, state, targets=None)
    etl.cycle.run()
    assert etl.forecast_series() == {LOAD}


def test_a_failing_store_loses_nothing_and_is_rewritten_once_back(
    clock: FixedClock,
) -> None:
    state = InMemoryEtlState()
    etl, steady = Etl(clock, state), Etl(clock, None)
    state.available = False
    for _ in range(4):
        assert etl.cycle.run().ok
        steady.cycle.run()
        clock.advance(300)
    assert etl.scores() == steady.scores() and etl.scores()
    state.available = True
    etl.cycle.run()
    steady.cycle.run()
    pending = {(f.series.id, f.made_at) for f in state.pending_forecasts()}
    assert len(pending) == len(etl.cycle.ledger) == len(steady.cycle.ledger) == 2
    restarted = Etl(clock, state)
    assert len(restarted.cycle.ledger) == 2


def test_an_unreadable_store_at_start_gives_an_empty_but_working_cycle(
    clock: FixedClock,
) -> None:
    state = InMemoryEtlState()
    Etl(clock, state, Sla("disk_free_ratio")).cycle.run()
    state.available = False
    restarted = Etl(clock, state, Sla("disk_free_ratio"))
    assert len(restarted.cycle.ledger) == 0
    assert restarted.cycle.run().ok
