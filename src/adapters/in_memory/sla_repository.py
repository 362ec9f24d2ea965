"""SLA definitions in a dict, with the semantics of the SQL repository."""

import threading

from monitoring_core.errors import StoreUnavailable
from monitoring_core.ports import Clock, SlaRepository
from monitoring_core.sla import Sla, deletable, next_version


class InMemorySlaRepository(SlaRepository):
    """A verified fake: the SLA repository contract runs on it and on SQL."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._slas: dict[str, Sla] = {}
        self._lock = threading.Lock()
        self.available = True

    def _check(self) -> None:
        if not self.available:
            raise StoreUnavailable("in-memory SLA repository switched off")

    def get(self, name: str) -> Sla | None:
        """The stored SLA of that name."""
        self._check()
        return self._slas.get(name)

    def all(self) -> list[Sla]:
        """Every SLA, by name."""
        self._check()
        return [self._slas[name] for name in sorted(self._slas)]

    def put(self, sla: Sla, expected_version: int | None) -> tuple[Sla, bool]:
        """Create or replace, checking the version under a lock."""
        self._check()
        with self._lock:
            stored, changed = next_version(
                self._slas.get(sla.name), sla, expected_version, self._clock.now()
            )
            self._slas[sla.name] = stored
            return stored, changed

    def delete(self, name: str, expected_version: int | None) -> None:
        """Delete, checking the version under a lock."""
        self._check()
        with self._lock:
            deletable(self._slas.get(name), name, expected_version)
            del self._slas[name]
