"""The storage loop: batches, consumer lag, retention pruning, health."""

import logging
import threading
import time
from datetime import timedelta
from typing import Any, Protocol

from adapters.prometheus_client.storage_telemetry import PrometheusIngestTelemetry
from monitoring_core.errors import MonitoringError
from monitoring_core.ports import Clock, ResultStore
from monitoring_core.services.storage_ingest import Stopped, StorageIngest

log = logging.getLogger(__name__)


class LagSource(Protocol):
    """A feed that can say how far behind it is (Kafka or the in-process bus)."""

    def lag(self) -> int:
        """Messages waiting to be consumed."""
        ...


LAG_EVERY_SECONDS = 10.0
STALL_SECONDS = 120.0


class StorageRunner:
    """Runs the ingest use case until ``stop`` is set."""

    def __init__(
        self,
        *,
        ingest: StorageIngest,
        feed: LagSource,
        store: ResultStore,
        telemetry: PrometheusIngestTelemetry,
        clock: Clock,
        retention_seconds: int,
        prune_every_seconds: int,
        stop: threading.Event,
    ) -> None:
        self._ingest = ingest
        self._feed = feed
        self._store = store
        self._telemetry = telemetry
        self._clock = clock
        self._retention = retention_seconds
        self._prune_every = prune_every_seconds
        self._stop = stop
        self._last_loop = time.monotonic()
        self.stored = 0

    def run(self) -> None:
        """Ingest until stopped; prune and measure lag on their own schedules."""
        next_lag = next_prune = time.monotonic()
        try:
            while not self._stop.is_set():
                self.stored += self._ingest.step()
                self._last_loop = now = time.monotonic()
                if now >= next_lag:
                    next_lag = now + LAG_EVERY_SECONDS
                    self._measure_lag()
                if now >= next_prune:
                    next_prune = now + self._prune_every
                    self._prune()
        except Stopped as exc:
            log.warning("%s; the batch will be delivered again", exc)

    def _measure_lag(self) -> None:
        try:
            self._telemetry.lag.set(self._feed.lag())
        except Exception as exc:  # lag is informative; never stop for it
            log.warning("could not measure consumer lag: %s", exc)

    def _prune(self) -> None:
        cutoff = self._clock.now() - timedelta(seconds=self._retention)
        try:
            removed = self._store.prune(cutoff, 1000)
        except MonitoringError as exc:
            log.warning("retention pruning failed, will retry: %s", exc)
            return
        if removed:
            log.info("pruned %d rows older than %s", removed, cutoff.isoformat())

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy while the loop turns; waiting for the database is not a stall
        (restarting would not bring the database back), but it is reported."""
        age = time.monotonic() - self._last_loop
        waiting = self._ingest.retrying
        return age < STALL_SECONDS or waiting, {
            "last_loop_seconds_ago": round(age, 1),
            "waiting_for_store": waiting,
            "messages_stored": self.stored,
        }
