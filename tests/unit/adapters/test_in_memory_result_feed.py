"""The in-memory feed, fed by the in-process bus, passes the ResultFeed contract."""

from collections.abc import Sequence

import pytest

from adapters.in_memory.result_feed import InMemoryResultFeed
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from monitoring_core.ports import Received, Result
from tests.contracts.result_feed_contract import FeedHarness, ResultFeedContract


class BusHarness:
    """Results travel over the bus as the all-in-one process sends them."""

    def __init__(self) -> None:
        self.feed = InMemoryResultFeed()
        self._bus = InMemoryResultPublisher(retain=False)
        self.feed.attach(self._bus)

    def put(self, results: Sequence[Result]) -> None:
        self._bus.publish(results)

    def put_unreadable(self, payload: bytes) -> None:
        # The bus carries objects, never bytes: a reject is offered as decoded.
        reason = f"unreadable message: {payload[:40]!r}"
        self.feed.offer([Received(result=None, rejection=reason, origin="bus")])

    def dead_lettered(self, count: int) -> list[str]:
        return [str(r.rejection) for r in self.feed.dead_letters[:count]]


class TestInMemoryResultFeed(ResultFeedContract):
    @pytest.fixture
    def harness(self) -> FeedHarness:
        return BusHarness()
