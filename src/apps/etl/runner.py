"""Scheduling: a cycle every few minutes, metadata in its own thread once a day.

Between two full metadata runs the metadata thread retries, every
``metadata_retry_seconds``, only the series whose metadata is missing or
insufficient: a young series gets its metadata soon after its history is long
enough, not a day later.

With ``markers``, every cycle leaves a durable marker while it runs (ADR
0053): at start the runner publishes an ``aborted`` record for each cycle
whose process ended mid-way, and a cycle that crashes is recorded as aborted
at once.
"""

import logging
import threading
import time
from collections.abc import Callable

from apps.etl.cycle_marker import CycleMarkers, Started
from monitoring_core.errors import MonitoringError
from monitoring_core.ports import Clock, ResultPublisher
from monitoring_core.runs import EtlRun, aborted_run
from monitoring_core.services.etl_cycle import DELIVERY_WAIT_SECONDS, EtlCycle

log = logging.getLogger(__name__)

# How often the metadata thread looks for shards newly given to this worker.
SHARD_CHECK_SECONDS = 5.0


class EtlRunner:
    """Runs cycles on a fixed period until ``stop`` is set.

    Args:
        markers: where started cycles leave their markers; None: no trace of
            a killed cycle (MONITORING_ETL_STATE_PATH=none).
        publisher, clock: publish and date the records of aborted cycles;
            needed with ``markers``.
    """

    def __init__(
        self,
        cycle: EtlCycle,
        cycle_seconds: int,
        metadata_seconds: int,
        stop: threading.Event,
        metadata_retry_seconds: int = 3600,
        markers: CycleMarkers | None = None,
        publisher: ResultPublisher | None = None,
        clock: Clock | None = None,
        worker: str | None = None,
    ) -> None:
        self._cycle = cycle
        self._period = cycle_seconds
        self._metadata_period = metadata_seconds
        self._retry_period = metadata_retry_seconds
        self._stop = stop
        self._markers = markers
        self._publisher = publisher
        self._clock = clock
        self._worker = worker
        if markers is not None and (publisher is None or clock is None):
            raise ValueError("cycle markers need a publisher and a clock")

    def run_once(self) -> EtlRun:
        """One full cycle including metadata, in this thread."""
        self.record_aborted()
        return self._marked(
            "once", lambda: self._cycle.run(include_metadata=True, claim=False)
        )

    def run_forever(self) -> None:
        """Cycles on the period, metadata at start-up and then on its own period."""
        self.record_aborted()
        metadata = threading.Thread(
            target=self._metadata_loop, name="metadata", daemon=True
        )
        metadata.start()
        self._loop(lambda: self._marked("analysis", self._cycle.run), self._period)
        metadata.join(timeout=60)

    def record_aborted(self) -> int:
        """Publish an ``aborted`` record for each cycle that never finished.

        Their markers are removed once the records are delivered; records
        still buffered keep their markers and are published again at the next
        start (same run ids: stored once). Returns how many were found.
        """
        if self._markers is None:
            return 0
        leftovers = self._markers.leftovers()
        if not leftovers:
            return 0
        assert self._publisher is not None and self._clock is not None
        now = self._clock.now()
        runs = [
            aborted_run(m.run_id, m.started_at, now, m.reason(), self._worker)
            for m in leftovers
        ]
        for m in leftovers:
            log.warning(
                "etl cycle aborted: a %s cycle started at %s never finished "
                "(process %d ended during it); recorded as aborted",
                m.loop,
                m.started_at.isoformat(),
                m.pid,
                extra={"event": "etl_cycle", "run_id": m.run_id, "ok": False},
            )
        try:
            self._publisher.publish(runs)
        except MonitoringError as exc:
            log.error("could not publish the aborted cycles' records: %s", exc)
            return len(runs)
        left = self._publisher.flush(DELIVERY_WAIT_SECONDS)
        if left:
            log.warning(
                "the aborted cycles' records are buffered, not delivered yet; "
                "their markers stay until a start delivers them"
            )
            return len(runs)
        for m in leftovers:
            self._markers.finish(m)
        return len(runs)

    def _marked(self, loop: str, action: Callable[[], EtlRun]) -> EtlRun:
        """Run one cycle between its marker's writing and its removal."""
        marker = self._start_marker(loop)
        try:
            run = action()
        except Exception as exc:
            if marker is not None:
                self._record_crash(marker, exc)
            raise
        if marker is not None:
            self._finish_marker(marker)
        return run

    def _start_marker(self, loop: str) -> Started | None:
        if self._markers is None or self._clock is None:
            return None
        try:
            return self._markers.start(loop, self._clock.now())
        except OSError as exc:
            log.warning(
                "cannot write the cycle marker in %s (a kill during this cycle "
                "will leave no trace): %s",
                self._markers.directory,
                exc,
            )
            return None

    def _finish_marker(self, marker: Started) -> None:
        assert self._markers is not None
        try:
            self._markers.finish(marker)
        except OSError as exc:
            log.warning("cannot remove the cycle marker %s: %s", marker.path, exc)

    def _record_crash(self, marker: Started, exc: Exception) -> None:
        """A cycle that raised published no record: publish an aborted one."""
        assert self._publisher is not None and self._clock is not None
        run = aborted_run(
            marker.run_id,
            marker.started_at,
            self._clock.now(),
            f"the {marker.loop} cycle crashed: {type(exc).__name__}: {exc}",
            self._worker,
        )
        try:
            self._publisher.publish([run])
        except MonitoringError as error:
            log.error("could not publish the crashed cycle's record: %s", error)
            return  # the marker stays: reported at the next start
        self._finish_marker(marker)

    def _metadata_loop(self) -> None:
        """Full runs on the metadata period, retries of the pending series on
        the retry period, and a retry as soon as this worker's shards change
        (ADR 0055): a worker describes the series of the shards it is given
        within seconds, not at the next retry."""
        period, retry = self._metadata_period, self._retry_period
        next_full = time.monotonic()
        next_retry = next_full + retry if retry > 0 else float("inf")
        seen: frozenset[int] | None = None
        while not self._stop.is_set():
            now = time.monotonic()
            owned = self._cycle.owned_shards()
            full = now >= next_full
            if full or now >= next_retry or owned != seen:
                if full:
                    next_full = now + period
                if retry > 0:
                    next_retry = now + retry
                seen = owned

                def describe(full: bool = full) -> EtlRun:
                    return self._cycle.run(
                        include_metadata=True,
                        analysis=False,
                        only_pending_metadata=not full,
                    )

                try:
                    self._marked("metadata", describe)
                except Exception:  # a bug must not end the service; it is logged
                    log.exception("metadata cycle crashed; the next one will run")
            wait = min(next_full, next_retry) - time.monotonic()
            self._stop.wait(max(0.0, min(wait, SHARD_CHECK_SECONDS)))

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
