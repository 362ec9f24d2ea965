"""The storage use case: feed to store, nothing lost, nothing doubled."""

import logging
import time
from collections.abc import Callable

from monitoring_core.dependency_state import DependencyState
from monitoring_core.errors import MonitoringError, PublishError, StoreUnavailable
from monitoring_core.ports import IngestTelemetry, ResultFeed, ResultStore

log = logging.getLogger(__name__)


RETRY_FIRST_SECONDS = 0.25
RETRY_MOST_SECONDS = 1.0
"""The retry delay of a batch the store refused: from 0.25 s, doubling, at most
1 s, so that storage resumes within about a second of the database's return
(ADR 0054). A refused attempt costs a refused connection; one a second is
nothing to a database that is coming back."""


class Backoff:
    """Exponential delays between retries: ``first``, doubling, up to ``most``."""

    def __init__(
        self, first: float = RETRY_FIRST_SECONDS, most: float = RETRY_MOST_SECONDS
    ) -> None:
        self._first = first
        self._most = most
        self._next = first

    def next(self) -> float:
        """The delay before the next attempt."""
        delay, self._next = self._next, min(self._next * 2, self._most)
        return delay

    def reset(self) -> None:
        """Start again from the first delay."""
        self._next = self._first


class Stopped(Exception):
    """Shutdown was asked for while a batch waited for the store."""


class StorageIngest:
    """Writes each batch in one transaction, then commits it.

    Rejected messages are set aside first; a store (or dead-letter) outage
    holds the feed and retries the same batch with backoff until it is written
    or shutdown is asked for (then nothing is committed and the batch comes
    again later).
    The store's writes are idempotent, so redelivery changes nothing.
    An outage is logged once when it starts, summarised every minute while it
    lasts and once when it ends (``store_state``), not at every retry.
    """

    def __init__(
        self,
        *,
        feed: ResultFeed,
        store: ResultStore,
        telemetry: IngestTelemetry,
        batch_size: int = 2000,
        poll_seconds: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._feed = feed
        self._store = store
        self._telemetry = telemetry
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._should_stop = should_stop
        self._sleep = sleep
        self._backoff = Backoff()
        self.store_state = DependencyState("the result store", log)
        """Up or down as the last write found it; logs each change."""
        self.retrying = False
        """True while a batch waits for the store or the dead-letter topic."""

    def step(self) -> int:
        """Take, store and commit one batch; returns how many messages it held."""
        batch = self._feed.next_batch(self._batch_size, self._poll)
        if not batch:
            return 0
        rejected = [r for r in batch if r.result is None]
        if rejected:
            for item in rejected:
                log.warning("dead-lettered %s: %s", item.origin, item.rejection)
            self._until_done(lambda: self._feed.dead_letter(rejected))
        results = [r.result for r in batch if r.result is not None]
        started = time.perf_counter()
        self._until_done(lambda: self._store.write(results))
        self._feed.commit()
        self._telemetry.observe_batch(
            len(batch), len(rejected), time.perf_counter() - started
        )
        return len(batch)

    def _until_done(self, action: Callable[[], None]) -> None:
        """Retry until it works: the batch must neither be skipped nor committed."""
        held = False
        try:
            while True:
                try:
                    action()
                    self._backoff.reset()
                    self.retrying = False
                    self.store_state.succeeded()
                    return
                except (StoreUnavailable, PublishError) as exc:
                    held = self._wait(exc, held)
        finally:
            if held:
                self._feed.release()

    def _wait(self, exc: MonitoringError, held: bool) -> bool:
        self._telemetry.observe_store_failure()
        self.retrying = True
        if not held:
            self._feed.hold()
        delay = self._backoff.next()
        self.store_state.failed(f"{exc}; the batch is held and retried")
        if self._should_stop():
            raise Stopped("shutdown while a batch could not be stored") from exc
        self._sleep(delay)
        self._feed.hold()  # keeps the consumer's group membership alive
        return True
