"""An in-process feed of results, fed by the in-memory bus."""

import threading
from collections import deque
from collections.abc import Sequence

from adapters.in_memory.result_publisher import InMemoryResultPublisher
from monitoring_core.ports import Received, Result, ResultFeed


class InMemoryResultFeed(ResultFeed):
    """A queue between the bus and the storage use case.

    ``committed`` counts messages marked done; ``dead_letters`` keeps what was
    set aside. While held, nothing new is handed out.
    """

    def __init__(self) -> None:
        self._queue: deque[Received] = deque()
        self._handed: list[Received] = []
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
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
        """Queue messages, rejected ones included."""
        with self._ready:
            self._queue.extend(items)
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
