"""Alerts held by hand, pending or firing by their ``for`` as Prometheus decides."""

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from monitoring_core.alerts import NAME_LABEL, Alert, AlertState
from monitoring_core.errors import SourceUnavailable
from monitoring_core.ports import AlertStates, Clock


@attrs.frozen(kw_only=True)
class _Held:
    labels: Mapping[str, str]
    since: datetime
    for_seconds: float
    value: float
    annotations: Mapping[str, str]


class InMemoryAlertStates(AlertStates):
    """A verified fake: the alert-states contract runs on it and on Prometheus.

    ``hold`` says a rule's condition holds since a time; the alert is pending
    until ``for_seconds`` have passed on the clock, then firing, as Prometheus
    evaluates it. ``release`` ends it; ``available = False`` makes reads fail.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._held: dict[tuple[str, tuple[tuple[str, str], ...]], _Held] = {}
        self._lock = threading.Lock()
        self.available = True

    def hold(
        self,
        name: str,
        labels: Mapping[str, str],
        *,
        since: datetime,
        value: float,
        for_seconds: float = 0.0,
        annotations: Mapping[str, str] | None = None,
    ) -> None:
        """The condition of alert ``name`` with ``labels`` holds since ``since``."""
        full = {**labels, NAME_LABEL: name}
        with self._lock:
            self._held[(name, tuple(sorted(full.items())))] = _Held(
                labels=full,
                since=since,
                for_seconds=for_seconds,
                value=value,
                annotations=dict(annotations or {}),
            )

    def release(self, name: str, labels: Mapping[str, str]) -> None:
        """The condition no longer holds: the alert is gone."""
        full = {**labels, NAME_LABEL: name}
        with self._lock:
            self._held.pop((name, tuple(sorted(full.items()))), None)

    def active(self) -> list[Alert]:
        """Every held alert whose condition started by now."""
        if not self.available:
            raise SourceUnavailable("in-memory alert states switched off")
        now = self._clock.now()
        with self._lock:
            held = list(self._held.items())
        return [
            Alert(
                name=name,
                state=_state(h, now),
                labels=h.labels,
                active_at=h.since,
                value=h.value,
                annotations=h.annotations,
            )
            for (name, _), h in held
            if h.since <= now
        ]


def _state(held: _Held, now: datetime) -> AlertState:
    if now - held.since >= timedelta(seconds=held.for_seconds):
        return AlertState.FIRING
    return AlertState.PENDING
