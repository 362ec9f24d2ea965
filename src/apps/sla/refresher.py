"""The SLA manager's background refresh of the SLO state shown on ``/metrics``."""

import logging
import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry

from adapters.prometheus_client.sla_state import SlaStateCollector
from monitoring_core.services.sla_state import SlaStateService

log = logging.getLogger(__name__)


class StateRefresher:
    """Calls ``refresh`` at once, then every ``interval`` seconds, until stopped.

    Refreshes run one after the other: one that takes longer than the interval
    delays the next rather than overlapping it.
    """

    def __init__(self, service: SlaStateService, interval_seconds: float) -> None:
        self._service = service
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sla-state", daemon=True)
        self._broken = False

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the refresh under way (up to 10 s)."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._refresh_once()
            self._stop.wait(self._interval)

    def _refresh_once(self) -> None:
        try:
            self._service.refresh()
        except (
            Exception
        ):  # a bug must not end the thread; one traceback, not one a minute
            if not self._broken:
                log.exception("SLO state refresh crashed; keeping the last values")
            self._broken = True
        else:
            self._broken = False


def state_refresher(
    service: SlaStateService,
    registry: CollectorRegistry,
    interval_seconds: int,
    _schema: None = None,
) -> Iterator[StateRefresher]:
    """Show the state on ``registry`` and refresh it until shutdown.

    ``_schema`` orders the start after the schema's migration.
    """
    collector = SlaStateCollector(service)
    registry.register(collector)
    refresher = StateRefresher(service, interval_seconds)
    refresher.start()
    try:
        yield refresher
    finally:
        refresher.stop()
        registry.unregister(collector)
