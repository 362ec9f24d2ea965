"""Scheduling: a cycle every few minutes, metadata in its own thread once a day.

Between two full metadata runs the metadata thread retries, every
``metadata_retry_seconds``, only the series whose metadata is missing or
insufficient: a young series gets its metadata soon after its history is long
enough, not a day later.
"""

import logging
import threading
import time
from collections.abc import Callable

from monitoring_core.runs import EtlRun
from monitoring_core.services.etl_cycle import EtlCycle

log = logging.getLogger(__name__)


class EtlRunner:
    """Runs cycles on a fixed period until ``stop`` is set."""

    def __init__(
        self,
        cycle: EtlCycle,
        cycle_seconds: int,
        metadata_seconds: int,
        stop: threading.Event,
        metadata_retry_seconds: int = 3600,
    ) -> None:
        self._cycle = cycle
        self._period = cycle_seconds
        self._metadata_period = metadata_seconds
        self._retry_period = metadata_retry_seconds
        self._stop = stop

    def run_once(self) -> EtlRun:
        """One full cycle including metadata, in this thread."""
        return self._cycle.run(include_metadata=True)

    def run_forever(self) -> None:
        """Cycles on the period, metadata at start-up and then on its own period."""
        metadata = threading.Thread(
            target=self._metadata_loop, name="metadata", daemon=True
        )
        metadata.start()
        self._loop(lambda: self._cycle.run(), self._period)
        metadata.join(timeout=60)

    def _metadata_loop(self) -> None:
        next_full = time.monotonic()

        def full_or_retry() -> EtlRun:
            nonlocal next_full
            if time.monotonic() >= next_full:
                next_full = time.monotonic() + self._metadata_period
                return self._cycle.run(include_metadata=True, analysis=False)
            return self._cycle.run(
                include_metadata=True, analysis=False, only_pending_metadata=True
            )

        retry = self._retry_period
        period = self._metadata_period
        self._loop(full_or_retry, min(period, retry) if retry > 0 else period)

    def _loop(self, action: Callable[[], EtlRun], period: int) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                action()
            except Exception:  # a bug must not end the service; it is logged
                log.exception("cycle crashed; the next one will run on schedule")
            elapsed = time.monotonic() - started
            if elapsed > period:
                log.warning(
                    "cycle took %.1fs, longer than its %ds period", elapsed, period
                )
            self._stop.wait(max(0.0, period - elapsed))
