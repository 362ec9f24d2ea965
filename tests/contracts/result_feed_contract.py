"""The contract every ResultFeed honours: in order, bounded, rejects set aside."""

import time
from collections.abc import Sequence
from typing import Protocol

import attrs
import pytest

from monitoring_core.ports import Received, Result, ResultFeed
from monitoring_core.series import SeriesKey
from tests.support import factories

PATIENCE = 30.0
"""Seconds a test waits for what it put in (a consumer group may take a rebalance)."""


class FeedHarness(Protocol):
    """A feed under test and the means to put messages in front of it."""

    feed: ResultFeed

    def put(self, results: Sequence[Result]) -> None:
        """Make ``results`` arrive at the feed, in this order."""

    def put_unreadable(self, payload: bytes) -> None:
        """Make a message arrive that cannot become a result."""

    def dead_lettered(self, count: int) -> list[str]:
        """The reasons of the first ``count`` messages set aside, in order."""


def distinct_results(count: int) -> list[Result]:
    """Window statistics of ``count`` different series."""
    stats = factories.window_stats()
    return [
        attrs.evolve(stats, series=SeriesKey.of("m", {"i": str(i)}))
        for i in range(count)
    ]


def take(feed: ResultFeed, count: int, max_items: int = 100) -> list[Received]:
    """Batches until ``count`` messages came out; each batch checked for size."""
    out: list[Received] = []
    deadline = time.monotonic() + PATIENCE
    while len(out) < count and time.monotonic() < deadline:
        batch = feed.next_batch(max_items, 0.5)
        assert len(batch) <= max_items
        out += batch
    assert len(out) == count, f"{len(out)} of {count} messages came out"
    return out


def results_of(received: Sequence[Received]) -> list[str]:
    """What came out, as text: a NaN statistic equals itself only so."""
    return [repr(r.result) for r in received]


def texts(results: Sequence[Result | None]) -> list[str]:
    """Results as text, to compare with ``results_of``."""
    return [repr(r) for r in results]


class ResultFeedContract:
    """Subclasses provide a ``harness`` fixture (``FeedHarness``)."""

    @pytest.fixture
    def harness(self) -> FeedHarness:
        raise NotImplementedError

    def test_results_come_out_whole_and_in_order(self, harness: FeedHarness) -> None:
        results = factories.every_result()
        harness.put(results)
        received = take(harness.feed, len(results))
        assert results_of(received) == texts(results)
        assert all(r.rejection is None for r in received)
        assert all(r.origin for r in received)

    def test_a_batch_never_holds_more_than_asked(self, harness: FeedHarness) -> None:
        results = distinct_results(11)
        harness.put(results)
        received = take(harness.feed, 11, max_items=3)
        assert results_of(received) == texts(results)

    def test_an_empty_feed_answers_nothing_within_its_timeout(
        self, harness: FeedHarness
    ) -> None:
        harness.put(distinct_results(2))
        take(harness.feed, 2)
        started = time.monotonic()
        assert harness.feed.next_batch(10, 0.5) == []
        assert time.monotonic() - started < 0.5 + 2.0

    def test_an_unreadable_message_comes_out_with_a_reason_and_is_set_aside(
        self, harness: FeedHarness
    ) -> None:
        first, last = distinct_results(2)
        harness.put([first])
        harness.put_unreadable(b"{not json")
        harness.put([last])
        received = take(harness.feed, 3)
        assert results_of(received) == texts([first, None, last])
        rejected = received[1]
        assert rejected.rejection and rejected.origin
        harness.feed.dead_letter([rejected])
        harness.feed.commit()
        assert harness.dead_lettered(1) == [rejected.rejection]

    def test_hold_and_release_lose_and_repeat_nothing(
        self, harness: FeedHarness
    ) -> None:
        results = distinct_results(8)
        harness.put(results[:4])
        received = take(harness.feed, 2, max_items=2)
        harness.feed.hold()
        harness.put(results[4:])
        harness.feed.release()
        received += take(harness.feed, 6, max_items=2)
        assert results_of(received) == texts(results)
        assert harness.feed.next_batch(10, 0.5) == []

    def test_after_a_commit_the_feed_goes_on_with_the_next_messages(
        self, harness: FeedHarness
    ) -> None:
        results = distinct_results(6)
        harness.put(results)
        received = take(harness.feed, 3, max_items=3)
        harness.feed.commit()
        received += take(harness.feed, 3, max_items=3)
        harness.feed.commit()
        assert results_of(received) == texts(results)
        assert harness.feed.next_batch(10, 0.5) == []
