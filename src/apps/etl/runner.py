"""Scheduling: a cycle every few minutes, metadata in its own thread once a day."""

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
    ) -> None:
        self._cycle = cycle
        self._period = cycle_seconds
        self._metadata_period = metadata_seconds
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
        self._loop(
            lambda: self._cycle.run(include_metadata=True, analysis=False),
            self._metadata_period,
        )

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
