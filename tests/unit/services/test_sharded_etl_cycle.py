"""Workers sharing shards (ADR 0055), on the in-memory group: each series is
analysed by one worker per cycle window, and a shard taken away mid-cycle is
handed back and analysed by its new owner in the same window."""

import math
from collections import Counter
from datetime import UTC, datetime

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.forecaster import InMemoryForecaster
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.shard_lease import InMemoryShardGroup, InMemoryShardLease
from monitoring_core.forecasts import Forecast
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.runs import EtlRun
from monitoring_core.selectors import parse_selector
from monitoring_core.series import SeriesKey
from monitoring_core.services.settings import EtlSettings
from monitoring_core.sharding import Sharding
from monitoring_core.windows import SeriesWindowStats
from tests.support.etl_cycles import in_memory_cycle

START = datetime(2026, 11, 26, 0, 0, tzinfo=UTC).timestamp()
SHARDING = Sharding(count=16)
KEYS = [
    SeriesKey.of(f"m{n}", {"instance": f"i{i}", "job": "x"})
    for n in range(4)
    for i in range(10)
]


def _source() -> InMemoryMetricSource:
    source = InMemoryMetricSource()
    for k, key in enumerate(KEYS):
        source.add(
            key,
            [(START + j * 60, k + math.sin(j / 7)) for j in range(8 * 60)],
        )
    return source


SETTINGS = EtlSettings(
    selectors=(parse_selector('{job="x"}'),),
    forecast_selectors=(parse_selector('{job="x"}'),),
    windows=(3600,),
    forecast_lookback_seconds=3 * 3600,
    metadata_lookback_seconds=6 * 3600,
    metadata_step_seconds=60,
)


class Worker:
    def __init__(
        self,
        lease: InMemoryShardLease,
        clock: FixedClock,
        bus: InMemoryResultPublisher,
        source: InMemoryMetricSource,
    ) -> None:
        self.lease = lease
        self.cycle = in_memory_cycle(
            source,
            clock,
            bus,
            SETTINGS,
            lease=lease,
            sharding=SHARDING,
            window_seconds=300,
        )


class World:
    def __init__(self, workers: int) -> None:
        self.clock = FixedClock(datetime.fromtimestamp(START + 6 * 3600, UTC))
        self.bus = InMemoryResultPublisher(100_000)
        self.source = _source()
        self.group = InMemoryShardGroup(SHARDING)
        self.workers = [self.join(f"w{n}") for n in range(workers)]

    def join(self, name: str) -> Worker:
        return Worker(self.group.join(name), self.clock, self.bus, self.source)

    def stats(self) -> list[SeriesWindowStats]:
        return [r for r in self.bus.results if isinstance(r, SeriesWindowStats)]

    def runs(self) -> list[EtlRun]:
        return [r for r in self.bus.results if isinstance(r, EtlRun)]


def _window(at: datetime) -> int:
    return int(at.timestamp()) // 300


def test_three_workers_split_the_series_and_each_is_analysed_once() -> None:
    world = World(3)
    for w in world.workers:
        run = w.cycle.run()
        assert run.ok, run.errors
    counts = Counter(s.series for s in world.stats())
    assert set(counts) == set(KEYS) and set(counts.values()) == {1}
    runs = world.runs()
    assert [r.worker for r in runs] == ["w0", "w1", "w2"]
    covered = [set(r.shards or ()) for r in runs]
    assert set().union(*covered) == set(range(16))
    assert sum(map(len, covered)) == 16  # disjoint
    for run in runs:  # each worker analysed exactly the series of its shards
        mine = {k for k in KEYS if SHARDING.shard_of(k) in (run.shards or ())}
        assert run.series_count == len(mine)
    forecasts = Counter(r.series for r in world.bus.results if isinstance(r, Forecast))
    assert set(forecasts.values()) == {1} and set(forecasts) == set(KEYS)


def test_a_second_cycle_in_the_same_window_analyses_nothing_again() -> None:
    world = World(1)
    world.workers[0].cycle.run()
    again = world.workers[0].cycle.run()
    assert again.ok and again.series_count == 0 and again.shards == ()
    world.clock.advance(300)
    later = world.workers[0].cycle.run()
    assert later.series_count == len(KEYS)
    per_window = Counter((s.series, _window(s.at)) for s in world.stats())
    assert set(per_window.values()) == {1}


def test_a_shard_taken_mid_cycle_is_handed_back_and_analysed_by_its_new_owner() -> None:
    world = World(1)
    first = world.workers[0]
    # The forecast step is where the first worker is when a second one joins:
    # the group takes half of its claimed shards before it publishes.
    forecaster = first.cycle._forecaster
    joined: list[Worker] = []

    class Joining(InMemoryForecaster):
        def forecast(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if not joined:
                joined.append(world.join("w9"))
            return forecaster.forecast(*args, **kwargs)

    first.cycle._forecaster = Joining()
    run = first.cycle.run()
    assert run.ok, run.errors
    second = joined[0]
    moved = second.lease.owned()
    assert moved and not (moved & set(run.shards or ()))
    assert set(run.shards or ()) | moved == set(range(16))
    # Nothing of the moved shards was published by the first worker ...
    published = {s.series for s in world.stats()}
    assert all(SHARDING.shard_of(k) not in moved for k in published)
    # ... and the new owner analyses them in the same window.
    late = second.cycle.run()
    assert late.ok and set(late.shards or ()) == moved
    per_window = Counter((s.series, _window(s.at)) for s in world.stats())
    assert set(per_window) == {(k, _window(world.clock.now())) for k in KEYS}
    assert set(per_window.values()) == {1}


def test_a_worker_that_leaves_mid_window_leaves_its_finished_shards_finished() -> None:
    world = World(2)
    a, b = world.workers
    a.cycle.run()
    world.group.leave("w0")  # a is gone after finishing: b gets its shards
    assert b.lease.owned() == frozenset(range(16))
    run = b.cycle.run()
    # Only b's own shards are left to analyse in this window.
    assert set(run.shards or ()) == set(range(16)) - set(world.runs()[0].shards or ())
    per_window = Counter((s.series, _window(s.at)) for s in world.stats())
    assert set(per_window.values()) == {1} and len(per_window) == len(KEYS)


def test_runs_without_claims_publish_what_the_worker_owns() -> None:
    """The metadata thread and ``--once`` read ``owned()`` and claim nothing:
    their results are published for every shard the worker still owns."""
    world = World(2)
    a, b = world.workers
    metadata = a.cycle.run(include_metadata=True, analysis=False)
    assert metadata.ok and set(metadata.shards or ()) == a.lease.owned()
    mine = {k for k in KEYS if SHARDING.shard_of(k) in a.lease.owned()}
    described = [r for r in world.bus.results if isinstance(r, SeriesMetadata)]
    assert {r.series for r in described} == mine
    once = b.cycle.run(include_metadata=True, claim=False)
    assert set(once.shards or ()) == b.lease.owned()
    assert {s.series for s in world.stats()} == set(KEYS) - mine
    # Claiming nothing, they leave the window open for the analysis cycles.
    assert a.cycle.run().series_count == len(mine)
