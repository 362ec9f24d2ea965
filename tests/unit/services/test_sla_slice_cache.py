"""Judged slices kept between refreshes (issue 14, ADR 0046).

A judgement that keeps its settled slices must give, at every refresh, exactly
what a judgement without any kept slice gives on the same data; it reads only
the slices after the settled ones, every objective of one slice length in one
call; and a sample arriving late within the settle time still counts.
"""

import random
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.sla_repository import InMemorySlaRepository
from monitoring_core.selectors import Selector, parse_selector
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import SlaJudgement
from monitoring_core.services.slice_cache import Settled, SliceCache
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from monitoring_core.slo import SeriesSliceStats, Slice, SliceState

NOW = datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC).timestamp()
WINDOWS = (600, 3600, 3 * 3600)
LO, HI = 20.0, 80.0


def _key(host: str) -> SeriesKey:
    return SeriesKey.of("load", {"host": host})


def _data() -> dict[SeriesKey, list[tuple[float, float]]]:
    """Four series at 15 s over 4 h and 40 min after NOW, with gaps, values
    exactly on the bounds, NaN, one series that starts late and one that stops."""
    rng = random.Random(14)
    first = NOW - 4 * 3600
    data: dict[SeriesKey, list[tuple[float, float]]] = {}
    for host in ("a", "b", "c", "d"):
        samples = []
        for i in range((4 * 3600 + 40 * 60) // 15):
            t = first + i * 15 + (7 if host == "b" else 0)  # b off the grid
            if host == "c" and t < NOW - 2 * 3600:
                continue  # starts late
            if host == "d" and t > NOW - 3600 + 600:
                continue  # stops
            if 1800 <= (t - first) % 3600 < 2100:
                continue  # a five-minute gap every hour
            value = rng.choice((LO, HI, rng.uniform(0, 100), rng.uniform(30, 70)))
            if rng.random() < 0.01:
                value = float("nan")
            samples.append((t, value))
        data[_key(host)] = samples
    return data


class Spy(InMemoryMetricSource):
    """Records every ``slice_stats`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, float, float, int]] = []

    def slice_stats(
        self,
        selectors: Sequence[Selector],
        start: datetime,
        end: datetime,
        slice_seconds: int,
    ) -> list[list[SeriesSliceStats]]:
        self.calls.append(
            (len(selectors), start.timestamp(), end.timestamp(), slice_seconds)
        )
        return super().slice_stats(selectors, start, end, slice_seconds)


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
        self.source = Spy()
        for key, samples in _data().items():
            self.source.add(key, samples)
        self.definitions = SlaDefinitions(
            InMemorySlaRepository(self.clock), self.source, self.clock
        )
        objectives = [
            ObjectiveDraft(selector="load", lo=LO, hi=HI, target=0.99, window="3h"),
            ObjectiveDraft(selector='load{host="a"}', hi=HI, target=0.9, window="1h"),
            ObjectiveDraft(
                selector="load", lo=LO, target=0.95, window="3h", slice="5m"
            ),
        ]
        self.definitions.apply(SlaDraft(name="s", objectives=tuple(objectives)))
        self.cached = self.judgement()

    def judgement(self) -> SlaJudgement:
        return SlaJudgement(self.definitions, self.source, self.clock)

    def fresh(self) -> object:
        """What a judgement without kept slices says now."""
        return self.judgement().violations("s", WINDOWS)


def test_every_refresh_equals_a_judgement_without_kept_slices() -> None:
    world = World()
    for step in range(40):
        kept = world.cached.violations("s", WINDOWS)
        assert kept == world.fresh(), f"refresh {step}"
        world.clock.advance(60 if step % 7 else 37)
    # The data changed under the refreshes: d stopped (silent in the last
    # 10 minutes, still reported: it has samples in the 3 h window).
    last = world.cached.violations("s", WINDOWS)[0].windows[0].series
    assert [s.series for s in last] == [_key(h) for h in "abcd"]
    assert [s.report.coverage == 0 for s in last] == [False, False, False, True]


def test_a_refresh_reads_only_the_slices_after_the_settled_ones() -> None:
    world = World()
    world.cached.violations("s", WINDOWS)
    assert len(world.source.calls) == 2  # one per slice length
    world.source.calls.clear()
    world.clock.advance(60)
    world.cached.violations("s", WINDOWS)
    now = NOW + 60
    by_length = {c[3]: c for c in world.source.calls}
    assert len(world.source.calls) == 2
    # Two objectives of 1-minute slices read together; from the last slice
    # that ended at least 5 minutes before the previous call.
    assert by_length[60] == (2, (NOW - 300) // 60 * 60, now // 60 * 60, 60)
    assert by_length[300] == (1, (NOW - 300) // 300 * 300, now // 300 * 300, 300)


def test_a_sample_arriving_late_within_the_settle_time_counts() -> None:
    world = World()
    before = world.cached.violations("s", WINDOWS)
    late = (NOW // 60 * 60) - 240  # a slice that ended three minutes ago
    world.source.add(_key("a"), [(late + 1, HI + 50)])
    after = world.cached.violations("s", WINDOWS)
    assert after == world.fresh()
    assert after != before
    a_1m = next(s for s in after[1].windows[0].series if s.series == _key("a"))
    assert any(e.worst_value == HI + 50 for e in a_1m.report.episodes)


def test_a_sample_arriving_after_the_settle_time_is_not_read_again() -> None:
    world = World()
    before = world.cached.violations("s", WINDOWS)
    old = (NOW // 60 * 60) - 1200  # settled 15 minutes ago
    world.source.add(_key("a"), [(old + 1, HI + 50)])
    assert world.cached.violations("s", WINDOWS) == before
    assert world.fresh() != before


def test_reading_the_past_does_not_replace_the_kept_slices() -> None:
    world = World()
    world.cached.violations("s", WINDOWS)
    objective = world.definitions.get("s").objectives[0]
    end = NOW // 60 * 60
    past = world.cached.sliced(objective, end - 7200, end - 3600)
    assert past == world.judgement().sliced(objective, end - 7200, end - 3600)
    world.source.calls.clear()
    world.clock.advance(60)
    refreshed = world.cached.violations("s", WINDOWS)
    assert {c[1] for c in world.source.calls if c[3] == 60} == {(NOW - 300) // 60 * 60}
    assert refreshed == world.fresh()


def _run(slices: int, series: int = 1) -> Settled:
    blank = Slice(
        start=0.0,
        end=60.0,
        state=SliceState.GOOD,
        minimum=1.0,
        maximum=1.0,
        samples=1,
    )
    return Settled(
        start=0.0,
        end=60.0 * slices,
        slice_seconds=60,
        series={_key(str(i)): (blank,) * slices for i in range(series)},
        span=60.0 * slices,
    )


def test_the_cache_keeps_at_most_its_capacity_least_recently_used_first() -> None:
    cache = SliceCache(capacity=100)
    cache.put("a", _run(40))
    cache.put("b", _run(40))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", _run(40))
    assert cache.size == 80
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
    cache.put("huge", _run(60, series=2))
    assert cache.get("huge") is None and cache.size == 80


def test_the_cache_drops_slices_older_than_the_longest_range_asked() -> None:
    cache = SliceCache()
    run = _run(100)
    cache.put("a", run)
    kept = cache.get("a")
    assert kept is not None and kept.size == 100
    short = Settled(
        start=run.start,
        end=run.end + 60,
        slice_seconds=60,
        series={k: (*v, v[0]) for k, v in run.series.items()},
        span=600.0,
    )
    cache.put("a", short)
    kept = cache.get("a")
    assert kept is not None
    assert (kept.start, kept.end, kept.size) == (run.end + 60 - 600, run.end + 60, 10)


@pytest.mark.parametrize("host", ["a", "b"])
def test_the_fake_sums_up_what_its_raw_samples_hold(host: str) -> None:
    source = InMemoryMetricSource()
    data = _data()
    source.add(_key(host), data[_key(host)])
    end = NOW // 60 * 60
    [[found]] = source.slice_stats(
        [parse_selector(f'load{{host="{host}"}}')],
        datetime.fromtimestamp(end - 3600, UTC),
        datetime.fromtimestamp(end, UTC),
        60,
    )
    raw = [(t, v) for t, v in data[_key(host)] if end - 3600 <= t < end and v == v]
    assert found.key == _key(host)
    assert sum(s.samples for s in found.stats if s) == len(raw)
    assert max(s.maximum for s in found.stats if s) == max(v for _, v in raw)
