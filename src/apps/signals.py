"""Turning SIGTERM and SIGINT into a stop event."""

import logging
import signal
import threading

log = logging.getLogger(__name__)


def stop_on_signals(stop: threading.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT; the service finishes what it is doing."""

    def handler(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        log.info("received %s, finishing the current work", name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
