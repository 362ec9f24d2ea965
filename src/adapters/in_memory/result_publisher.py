"""An in-process result bus: keeps published results in order, bounded."""

import threading
from collections.abc import Callable, Sequence

from monitoring_core.errors import PublishError
from monitoring_core.ports import Result, ResultPublisher


class InMemoryResultPublisher(ResultPublisher):
    """Appends results to a list and hands them to subscribers.

    Args:
        capacity: most results held at once; beyond it ``publish`` raises
            PublishError for the results that did not fit, like a full buffer.
        retain: keep what is published (tests read it back); off in the
            all-in-one mode, where subscribers (the storage feed) take it all.
    """

    def __init__(self, capacity: int = 1_000_000, retain: bool = True) -> None:
        self._capacity = capacity
        self._retain = retain
        self._results: list[Result] = []
        self._subscribers: list[Callable[[Sequence[Result]], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Callable[[Sequence[Result]], None]) -> None:
        """Call ``handler`` with every batch published from now on."""
        self._subscribers.append(handler)

    def publish(self, results: Sequence[Result]) -> None:
        """Keep the results and pass them to subscribers."""
        with self._lock:
            room = self._capacity - len(self._results)
            accepted = list(results[: max(room, 0)])
            if self._retain:
                self._results.extend(accepted)
        for handler in self._subscribers:
            handler(accepted)
        if len(accepted) < len(results):
            raise PublishError(
                f"bus full: {len(results) - len(accepted)} of {len(results)} "
                "results not accepted"
            )

    def flush(self, timeout_seconds: float) -> int:
        """Nothing is ever pending in memory."""
        return 0

    def drain(self) -> list[Result]:
        """Take every result held so far, emptying the bus."""
        with self._lock:
            taken, self._results = self._results, []
        return taken

    @property
    def results(self) -> list[Result]:
        """A copy of what is held."""
        with self._lock:
            return list(self._results)
