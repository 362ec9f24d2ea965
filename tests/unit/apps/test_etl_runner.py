"""The runner: metadata at start-up in its own thread, cycles on their period."""

import threading
import time

from adapters.in_memory.forecaster import InMemoryForecaster
from adapters.in_memory.metadata_analyzer import InMemoryMetadataAnalyzer
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.telemetry import InMemoryEtlTelemetry
from adapters.system.clock import SystemClock
from apps.etl.runner import EtlRunner
from monitoring_core.runs import EtlRun, Step
from monitoring_core.selectors import parse_selector
from monitoring_core.series import SeriesKey
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.settings import EtlSettings


def test_metadata_runs_at_start_up_beside_the_cycles() -> None:
    source = InMemoryMetricSource()
    now = time.time()
    source.add(
        SeriesKey.of("up", {"job": "x"}), [(now - i * 15, 1.0) for i in range(400)]
    )
    bus = InMemoryResultPublisher()
    settings = EtlSettings(selectors=(parse_selector("up"),), forecast_selectors=())
    cycle = EtlCycle(
        source=source,
        publisher=bus,
        forecaster=InMemoryForecaster(),
        metadata=MetadataJob(source, InMemoryMetadataAnalyzer(), settings),
        telemetry=InMemoryEtlTelemetry(),
        clock=SystemClock(),
        settings=settings,
    )
    stop = threading.Event()
    runner = EtlRunner(cycle, cycle_seconds=1, metadata_seconds=3600, stop=stop)
    thread = threading.Thread(target=runner.run_forever)
    thread.start()
    time.sleep(2.5)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    runs = [r for r in bus.results if isinstance(r, EtlRun)]
    metadata_runs = [r for r in runs if Step.METADATA in {t.step for t in r.steps}]
    cycles = [r for r in runs if Step.WINDOW_STATS in {t.step for t in r.steps}]
    assert len(metadata_runs) == 1, "once at start-up, then daily"
    assert 2 <= len(cycles) <= 4, "one cycle a second"
