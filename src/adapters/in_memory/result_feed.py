"""An in-process feed of results, fed by the in-memory bus; bounded (back-pressure)."""

import threading
import time
from collections import deque
from collections.abc import Sequence

from adapters.in_memory.result_publisher import InMemoryResultPublisher
from monitoring_core.errors import PublishError
from monitoring_core.ports import Received, Result, ResultFeed

CAPACITY = 20_000
"""Most results queued between the ETL and storage in ``monitoring run``:
more than a cycle of a few thousand series, a few hundred MB at most."""
WAIT_SECONDS = 60.0
"""How long a publisher waits for room before its results are refused."""


class InMemoryResultFeed(ResultFeed):
    """A bounded queue between the bus and the storage use case.

    ``committed`` counts messages marked done; ``dead_letters`` keeps what was
    set aside. While held, nothing new is handed out. At most ``capacity``
    messages wait: a publisher finding the queue full waits for room (the
    back-pressure of ADR 0054) up to ``wait_seconds``, then the results that
    did not fit are refused with PublishError, as a full Kafka buffer refuses
    them; the ETL records that cycle's publish step as failed.
    """

    def __init__(
        self, capacity: int = CAPACITY, wait_seconds: float = WAIT_SECONDS
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._wait = wait_seconds
        self._queue: deque[Received] = deque()
        self._handed: list[Received] = []
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self.committed = 0
        self.dead_letters: list[Received] = []
        self.held = False

    def attach(self, bus: InMemoryResultPublisher) -> None:
        """Receive everything published on the bus from now on."""
        bus.subscribe(self.offer_results)

    def offer_results(self, results: Sequence[Result]) -> None:
        """Queue results as received messages."""
        self.offer([Received(result=r, origin="bus") for r in results])

    def offer(self, items: Sequence[Received]) -> None:
        """Queue messages, rejected ones included; wait for room while full.

        Raises:
            PublishError: no room for ``wait_seconds``; the messages before the
                reported ones were queued.
        """
        deadline = time.monotonic() + self._wait
        done = 0
        with self._lock:
            while done < len(items):
                room = self._capacity - len(self._queue)
                if room <= 0:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise PublishError(
                            f"in-process bus full for {self._wait:.0f}s "
                            f"({self._capacity} results waiting for storage): "
                            f"{len(items) - done} of {len(items)} results not "
                            "accepted"
                        )
                    self._room.wait(left)
                    continue
                self._queue.extend(items[done : done + room])
                done += room
                self._ready.notify_all()

    def next_batch(self, max_items: int, timeout_seconds: float) -> list[Received]:
        """Up to ``max_items`` queued messages, waiting up to the timeout."""
        with self._ready:
            if not self._queue or self.held:
                self._ready.wait(timeout_seconds)
            if self.held:
                return []
            batch = [
                self._queue.popleft() for _ in range(min(max_items, len(self._queue)))
            ]
            self._handed += batch
            if batch:
                self._room.notify_all()
            return batch

    def dead_letter(self, rejected: Sequence[Received]) -> None:
        """Keep rejected messages in ``dead_letters``."""
        self.dead_letters.extend(rejected)

    def commit(self) -> None:
        """Everything handed out is done."""
        with self._lock:
            self.committed += len(self._handed)
            self._handed = []

    def hold(self) -> None:
        """Stop handing out messages."""
        self.held = True

    def release(self) -> None:
        """Hand out messages again."""
        with self._ready:
            self.held = False
            self._ready.notify_all()

    def lag(self) -> int:
        """Like a consumer group's lag: messages not yet handed out."""
        return self.pending

    @property
    def pending(self) -> int:
        """Messages queued and not yet handed out."""
        with self._lock:
            return len(self._queue)
