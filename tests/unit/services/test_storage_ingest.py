"""The storage use case: write, dead-letter, commit, and survive outages."""

import logging
from collections.abc import Sequence
from datetime import datetime

import pytest

from adapters.in_memory.result_feed import InMemoryResultFeed
from monitoring_core.errors import PublishError, StoreUnavailable
from monitoring_core.ports import Received, Result
from monitoring_core.services.storage_ingest import Backoff, Stopped, StorageIngest
from tests.support import factories


class FlakyStore:
    """Fails the first ``failures`` writes, then records every batch."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.batches: list[list[Result]] = []

    def write(self, results: Sequence[Result]) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("database down")
        self.batches.append(list(results))

    def prune(self, older_than: datetime, batch_size: int) -> int:
        return 0


class Telemetry:
    def __init__(self) -> None:
        self.batches: list[tuple[int, int]] = []
        self.failures = 0

    def observe_batch(self, size: int, rejected: int, write_seconds: float) -> None:
        self.batches.append((size, rejected))

    def observe_store_failure(self) -> None:
        self.failures += 1


class World:
    def __init__(self, failures: int = 0, stop_after: int | None = None) -> None:
        self.feed = InMemoryResultFeed()
        self.store = FlakyStore(failures)
        self.telemetry = Telemetry()
        self.sleeps: list[float] = []
        self.stop_after = stop_after
        self.ingest = StorageIngest(
            feed=self.feed,
            store=self.store,
            telemetry=self.telemetry,  # type: ignore[arg-type]
            batch_size=3,
            poll_seconds=0.01,
            should_stop=self._stop,
            sleep=self.sleeps.append,
        )

    def _stop(self) -> bool:
        return self.stop_after is not None and len(self.sleeps) >= self.stop_after


def test_valid_results_are_written_then_committed_poison_set_aside() -> None:
    world = World()
    good = [factories.forecast(), factories.score()]
    poison = Received(result=None, rejection="not JSON", origin="t[0]@7")
    world.feed.offer([Received(result=good[0]), poison, Received(result=good[1])])
    assert world.ingest.step() == 3
    assert world.store.batches == [good]
    assert world.feed.dead_letters == [poison]
    assert world.feed.committed == 3
    assert world.telemetry.batches == [(3, 1)]


def test_batches_are_bounded_and_an_empty_feed_is_a_quiet_step() -> None:
    world = World()
    world.feed.offer_results([factories.score()] * 5)
    assert [world.ingest.step() for _ in range(3)] == [3, 2, 0]
    assert [len(b) for b in world.store.batches] == [3, 2]


def test_a_store_outage_holds_the_feed_and_retries_the_same_batch() -> None:
    world = World(failures=4)
    world.feed.offer_results([factories.score(), factories.forecast()])
    assert world.ingest.step() == 2
    assert world.sleeps == [0.25, 0.5, 1.0, 1.0], "exponential, at most 1 s"
    assert len(world.store.batches) == 1 and world.feed.committed == 2
    assert world.telemetry.failures == 4
    assert not world.feed.held, "released once written"


def test_an_outage_is_logged_when_it_starts_and_ends_not_at_every_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(failures=30)
    world.feed.offer_results([factories.score()])
    with caplog.at_level(logging.INFO, "monitoring_core.services.storage_ingest"):
        assert world.ingest.step() == 1
    lines = [r.getMessage() for r in caplog.records]
    assert len(world.sleeps) == 30 and max(world.sleeps) == 1.0
    assert len(lines) == 2, lines
    assert lines[0].startswith("the result store is unreachable: database down")
    assert lines[1].startswith("the result store is reachable again after")
    assert lines[1].endswith("(30 failed attempts)")
    assert not world.ingest.store_state.is_down


def test_shutdown_during_an_outage_commits_nothing() -> None:
    world = World(failures=100, stop_after=2)
    world.feed.offer_results([factories.score()])
    with pytest.raises(Stopped):
        world.ingest.step()
    assert world.store.batches == [] and world.feed.committed == 0


def test_a_dead_letter_outage_is_retried_before_anything_is_committed() -> None:
    world = World()
    calls: list[int] = []

    def flaky_dead_letter(rejected: Sequence[Received]) -> None:
        calls.append(len(rejected))
        if len(calls) < 3:
            raise PublishError("dead-letter topic unavailable")

    world.feed.dead_letter = flaky_dead_letter  # type: ignore[method-assign]
    world.feed.offer([Received(result=None, rejection="bad")])
    assert world.ingest.step() == 1
    assert calls == [1, 1, 1] and world.feed.committed == 1


def test_backoff_doubles_up_to_a_ceiling_and_resets() -> None:
    backoff = Backoff(first=1, most=5)
    assert [backoff.next() for _ in range(5)] == [1, 2, 4, 5, 5]
    backoff.reset()
    assert backoff.next() == 1
