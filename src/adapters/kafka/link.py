"""The client's view of the broker: quick reconnects, one log line per change.

Every producer and consumer of the project is built with ``watched``: it
reconnects within a second of the broker coming back (librdkafka's default
back-off grows to 10 s), keeps librdkafka's own "Connect ... failed" lines
(about 20 a second while the broker is away) out of the log, and reports the
broker's state through a ``DependencyState``: one line when it goes away, a
summary every minute while it stays away, one line when it is back.
"""

import json
import logging
from typing import Any

from confluent_kafka import KafkaError

from monitoring_core.dependency_state import DependencyState

log = logging.getLogger(__name__)

RECONNECT_BACKOFF_MS = 100
RECONNECT_BACKOFF_MAX_MS = 1000
"""librdkafka's reconnect back-off: from 0.1 s, doubling, at most 1 s (ADR 0054)."""
STATS_INTERVAL_MS = 1000
"""How often librdkafka reports the brokers' states (how "back" is noticed)."""
QUIET_LOG_LEVEL = 2
"""librdkafka logs only critical lines itself; errors come through ``error_cb``."""
_UNREACHABLE = {
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._RESOLVE,
    KafkaError._TIMED_OUT,
    KafkaError._MSG_TIMED_OUT,
}


class _Watch:
    """librdkafka's callbacks, turned into state changes of the broker."""

    def __init__(self, state: DependencyState) -> None:
        self.state = state

    def on_error(self, error: KafkaError) -> None:
        if error.fatal():
            log.error("kafka client: fatal error: %s", error.str())
        elif error.code() in _UNREACHABLE:
            self.state.failed(error.str())
        else:
            log.warning("kafka client: %s", error.str())

    def on_stats(self, stats: str) -> None:
        try:
            brokers = json.loads(stats).get("brokers", {})
        except ValueError:
            return
        # The bootstrap entry has no node id; a real broker's connection is UP
        # once it answered.
        if any(
            b.get("nodeid", -1) >= 0 and b.get("state") == "UP"
            for b in brokers.values()
        ):
            self.state.succeeded()
        self.state.tick()


def watched(
    config: dict[str, Any], state: DependencyState, stats: bool = True
) -> dict[str, Any]:
    """``config`` with quick reconnects and its broker errors sent to ``state``.

    The client must be polled regularly (its callbacks run in ``poll``); with
    ``stats`` off (a client polled only now and then) the broker's return is
    not noticed by statistics, only by the next error-free exchange.
    """
    watch = _Watch(state)
    return {
        **config,
        "reconnect.backoff.ms": RECONNECT_BACKOFF_MS,
        "reconnect.backoff.max.ms": RECONNECT_BACKOFF_MAX_MS,
        "statistics.interval.ms": STATS_INTERVAL_MS if stats else 0,
        "log_level": QUIET_LOG_LEVEL,
        "logger": logging.getLogger("librdkafka"),
        "error_cb": watch.on_error,
        **({"stats_cb": watch.on_stats} if stats else {}),
    }


def broker_state(name: str = "kafka") -> DependencyState:
    """A fresh state of the broker, logging under this module."""
    return DependencyState(name, log)
