"""One log line per state change of a dependency, and a summary while it is down.

A broker or database that is away makes every attempt fail, many times a
second; logging each failure buries the one line that matters. A
``DependencyState`` turns them into: one line when the dependency goes down
(with the first reason), one summary line every ``summary_seconds`` while it
stays down (how long, how many failures, the last reason), and one line when
it comes back (after how long).
"""

import logging
import threading
import time
from collections.abc import Callable

SUMMARY_SECONDS = 60.0
"""Default period of the summary line while a dependency is down."""


class DependencyState:
    """The up/down state of one dependency, logged on each change.

    Args:
        name: how the log lines name the dependency ("kafka", "the database").
        logger: where the lines go.
        summary_seconds: period of the summary while down.
        clock: monotonic seconds (tests pass a fake).

    Thread-safe: librdkafka calls back from its own threads.
    """

    def __init__(
        self,
        name: str,
        logger: logging.Logger,
        summary_seconds: float = SUMMARY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._log = logger
        self._summary_seconds = summary_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_summary = 0.0
        self._failures = 0
        self._since_summary = 0
        self._last_reason = ""
        self.changes = 0
        """State changes so far (down and up both count)."""

    @property
    def is_down(self) -> bool:
        """True from the first failure until the next success."""
        with self._lock:
            return self._down_since is not None

    @property
    def down_seconds(self) -> float:
        """How long the current outage has lasted; 0 while up."""
        with self._lock:
            if self._down_since is None:
                return 0.0
            return self._clock() - self._down_since

    def failed(self, reason: str) -> None:
        """An attempt failed: logged if it is the first, else counted."""
        with self._lock:
            now = self._clock()
            self._failures += 1
            self._since_summary += 1
            self._last_reason = reason
            if self._down_since is None:
                self._down_since = now
                self._next_summary = now + self._summary_seconds
                self._failures = self._since_summary = 1
                self.changes += 1
                self._log.warning("%s is unreachable: %s", self._name, reason)
                return
        self.tick()

    def succeeded(self) -> None:
        """An attempt worked: logged if the dependency was down."""
        with self._lock:
            if self._down_since is None:
                return
            seconds = self._clock() - self._down_since
            failures = self._failures
            self._down_since = None
            self.changes += 1
        self._log.info(
            "%s is reachable again after %.1fs down (%d failed attempts)",
            self._name,
            seconds,
            failures,
        )

    def tick(self) -> None:
        """Log the summary if one is due; call it now and then while down."""
        with self._lock:
            now = self._clock()
            if self._down_since is None or now < self._next_summary:
                return
            self._next_summary = now + self._summary_seconds
            seconds = now - self._down_since
            count, self._since_summary = self._since_summary, 0
            reason = self._last_reason
        self._log.warning(
            "%s still unreachable after %.0fs: %d failed attempts in the last "
            "%.0fs, last: %s",
            self._name,
            seconds,
            count,
            self._summary_seconds,
            reason,
        )
