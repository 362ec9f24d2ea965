"""Metadata of a young series is retried soon, not only at the next daily run."""

import math
import threading
import time
from datetime import UTC, datetime
from typing import Any

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.shard_lease import InMemoryShardGroup
from adapters.system.clock import SystemClock
from apps.etl.runner import SHARD_CHECK_SECONDS, EtlRunner
from monitoring_core.metadata import SeriesMetadata, Stationarity
from monitoring_core.ports import Clock
from monitoring_core.runs import EtlRun, Step
from monitoring_core.selectors import parse_selector
from monitoring_core.series import SeriesKey
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.settings import EtlSettings
from monitoring_core.sharding import Sharding
from tests.support.etl_cycles import in_memory_cycle

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC).timestamp()
OLD = SeriesKey.of("node_load1", {"instance": "old"})
YOUNG = SeriesKey.of("node_load1", {"instance": "young"})
# 2 h at a 1-minute grid: 121 steps, more than half of them must be measured.
SETTINGS = EtlSettings(
    selectors=(parse_selector("node_load1"),),
    forecast_selectors=(),
    metadata_lookback_seconds=2 * 3600,
    metadata_step_seconds=60,
)


def wave(first: float, last: float) -> list[tuple[float, float]]:
    """A 10-minute sine sampled every 15 s over ``[first, last)``."""
    count = int((last - first) // 15)
    return [
        (first + i * 15, 1 + math.sin((first + i * 15) / 600)) for i in range(count)
    ]


def cycle_on(
    source: InMemoryMetricSource,
    clock: Clock,
    bus: InMemoryResultPublisher,
    **sharded: Any,
) -> EtlCycle:
    """This module's cycle (``lease`` and ``sharding`` for a worker of a group)."""
    return in_memory_cycle(source, clock, bus, SETTINGS, **sharded)


def metadata_of(bus: InMemoryResultPublisher) -> list[SeriesMetadata]:
    return [r for r in bus.results if isinstance(r, SeriesMetadata)]


def test_only_missing_or_insufficient_metadata_is_retried() -> None:
    source = InMemoryMetricSource()
    source.add(OLD, wave(NOW - 3 * 3600, NOW + 3 * 3600))
    # Began 10 minutes ago (and goes on): too young for a 2-hour analysis.
    source.add(YOUNG, wave(NOW - 600, NOW + 3 * 3600))
    clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
    bus = InMemoryResultPublisher()
    cycle = cycle_on(source, clock, bus)

    cycle.run(include_metadata=True, analysis=False)
    first = {m.series: m.stationarity for m in metadata_of(bus)}
    assert first[YOUNG] is Stationarity.INSUFFICIENT_DATA
    assert first[OLD] is not Stationarity.INSUFFICIENT_DATA

    # 20 minutes later: 30 minutes of 2 h, still too short; only it is re-read.
    clock.advance(1200)
    cycle.run(include_metadata=True, analysis=False, only_pending_metadata=True)
    second = metadata_of(bus)[2:]
    assert [(m.series, m.stationarity) for m in second] == [
        (YOUNG, Stationarity.INSUFFICIENT_DATA)
    ]

    # An hour later still: 90 minutes measured, more than half the grid.
    clock.advance(3600)
    cycle.run(include_metadata=True, analysis=False, only_pending_metadata=True)
    (third,) = metadata_of(bus)[3:]
    assert third.series == YOUNG
    assert third.stationarity is not Stationarity.INSUFFICIENT_DATA

    # Nothing pending any more: a retry reads and publishes no metadata.
    clock.advance(3600)
    run = cycle.run(include_metadata=True, analysis=False, only_pending_metadata=True)
    assert len(metadata_of(bus)) == 4
    assert run.ok and run.results_published == 0


def test_the_runner_retries_pending_metadata_between_full_runs() -> None:
    now = time.time()
    source = InMemoryMetricSource()
    source.add(OLD, wave(now - 3 * 3600, now + 60))
    source.add(YOUNG, wave(now - 600, now + 60))
    bus = InMemoryResultPublisher()
    stop = threading.Event()
    runner = EtlRunner(
        cycle_on(source, SystemClock(), bus),
        cycle_seconds=3600,
        metadata_seconds=3600,
        stop=stop,
        metadata_retry_seconds=1,
    )
    thread = threading.Thread(target=runner.run_forever)
    thread.start()
    time.sleep(2.5)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    runs = [r for r in bus.results if isinstance(r, EtlRun)]
    metadata_runs = [
        r
        for r in runs
        if Step.METADATA in {t.step for t in r.steps}
        and Step.WINDOW_STATS not in {t.step for t in r.steps}
    ]
    assert [r.results_published for r in metadata_runs][:3] == [2, 1, 1], (
        "a full run of both series, then retries of the young one each second"
    )
    assert {m.series for m in metadata_of(bus)[2:]} == {YOUNG}


def test_a_worker_describes_the_series_of_shards_it_is_given_within_seconds() -> None:
    """A sharded worker's first full run finds no shard yet (the group assigns
    them later); the series of the shards it is then given are described at
    once, not at the next hourly retry (ADR 0055)."""
    now = time.time()
    source = InMemoryMetricSource()
    source.add(OLD, wave(now - 3 * 3600, now + 60))
    bus = InMemoryResultPublisher()
    sharding = Sharding(count=4)
    group = InMemoryShardGroup(sharding)
    lease = group.join("w1")
    lease.revoke(lease.owned())  # joined, nothing assigned yet
    cycle = cycle_on(source, SystemClock(), bus, lease=lease, sharding=sharding)
    stop = threading.Event()
    runner = EtlRunner(
        cycle,
        cycle_seconds=3600,
        metadata_seconds=3600,
        stop=stop,
        metadata_retry_seconds=3600,
    )
    thread = threading.Thread(target=runner.run_forever)
    thread.start()
    try:
        time.sleep(0.5)
        assert metadata_of(bus) == []  # the first full run had no shard
        lease.assign(set(range(4)))
        deadline = time.monotonic() + SHARD_CHECK_SECONDS + 5
        while not metadata_of(bus) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert [m.series for m in metadata_of(bus)] == [OLD]
