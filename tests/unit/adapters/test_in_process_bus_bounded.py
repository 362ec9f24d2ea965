"""The in-process bus of ``monitoring run`` is bounded: with the database away,
memory stays flat and the publisher waits; nothing is lost when it returns."""

import threading
import time
import tracemalloc
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs
import pytest

from adapters.in_memory.result_feed import InMemoryResultFeed
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from monitoring_core.errors import PublishError, StoreUnavailable
from monitoring_core.ports import Received, Result
from monitoring_core.services.storage_ingest import StorageIngest
from tests.support import factories

CAPACITY = 2_000
BATCH = 500
BATCHES = 40


class AwayStore:
    """Refuses every write while ``away`` is set; counts what it stored."""

    def __init__(self) -> None:
        self.away = threading.Event()
        self.stored = 0

    def write(self, results: Sequence[Result]) -> None:
        if self.away.is_set():
            raise StoreUnavailable("database down")
        self.stored += len(results)

    def prune(self, older_than: datetime, batch_size: int) -> int:
        return 0


class Telemetry:
    def observe_batch(self, size: int, rejected: int, write_seconds: float) -> None:
        pass

    def observe_store_failure(self) -> None:
        pass


def _results(n: int) -> list[Result]:
    score = factories.score()
    return [
        attrs.evolve(score, scored_at=score.scored_at + timedelta(seconds=n + i))
        for i in range(BATCH)
    ]


def _wait_until(check: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_with_the_database_away_memory_stays_flat_and_the_publisher_waits() -> None:
    feed = InMemoryResultFeed(capacity=CAPACITY, wait_seconds=30)
    bus = InMemoryResultPublisher(retain=False)
    feed.attach(bus)
    store = AwayStore()
    store.away.set()
    stop = threading.Event()
    ingest = StorageIngest(
        feed=feed,
        store=store,
        telemetry=Telemetry(),
        batch_size=BATCH,
        poll_seconds=0.02,
        should_stop=stop.is_set,
        sleep=lambda _: time.sleep(0.005),
    )
    published = [0]

    def storage() -> None:
        while not stop.is_set():
            ingest.step()

    def etl() -> None:
        for n in range(BATCHES):
            bus.publish(_results(n * BATCH))
            published[0] += 1

    tracemalloc.start()
    threads = [threading.Thread(target=storage), threading.Thread(target=etl)]
    try:
        for t in threads:
            t.start()
        # The queue fills to its bound and the publisher blocks in publish.
        _wait_until(lambda: feed.pending == CAPACITY)
        time.sleep(0.3)
        blocked_at = published[0]
        samples = []
        for _ in range(5):
            samples.append(tracemalloc.get_traced_memory()[0])
            assert feed.pending <= CAPACITY
            time.sleep(0.1)
        assert published[0] == blocked_at, "the publisher waits while storage is away"
        assert blocked_at * BATCH <= CAPACITY + BATCH  # queued + the held batch
        assert threads[1].is_alive()
        assert max(samples) - min(samples) < 256 * 1024, "memory stays flat"
        store.away.clear()  # the database is back: everything drains
        threads[1].join(timeout=30)
        assert not threads[1].is_alive()
        _wait_until(lambda: store.stored == BATCHES * BATCH)
    finally:
        store.away.clear()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        tracemalloc.stop()
    assert feed.pending == 0 and not ingest.store_state.is_down


def test_a_full_bus_refuses_what_does_not_fit_after_the_wait() -> None:
    feed = InMemoryResultFeed(capacity=3, wait_seconds=0.05)
    bus = InMemoryResultPublisher(retain=False)
    feed.attach(bus)
    started = time.monotonic()
    with pytest.raises(PublishError, match="2 of 5 results not accepted"):
        bus.publish(_results(0)[:5])
    assert time.monotonic() - started >= 0.05
    assert feed.pending == 3
    assert len(feed.next_batch(10, 0)) == 3


def test_a_waiting_publisher_goes_on_as_soon_as_there_is_room() -> None:
    feed = InMemoryResultFeed(capacity=2, wait_seconds=5)
    feed.offer([Received(result=factories.score())] * 2)
    done = threading.Event()

    def publish() -> None:
        feed.offer([Received(result=factories.score())] * 3)
        done.set()

    publisher = threading.Thread(target=publish)
    publisher.start()
    assert not done.wait(0.1)
    handed = 0
    while not done.is_set():
        handed += len(feed.next_batch(1, 0.05))
    publisher.join()
    assert handed + feed.pending == 5


def test_the_capacity_must_hold_something() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        InMemoryResultFeed(capacity=0)
