"""The ETL's durable state in dicts, with the semantics of the SQLite file."""

import threading
from collections.abc import Sequence

from monitoring_core.errors import StoreUnavailable
from monitoring_core.forecasts import Forecast
from monitoring_core.ports import EtlStateStore, ForecastKey
from monitoring_core.selectors import Selector


class InMemoryEtlState(EtlStateStore):
    """A verified fake: the ETL state contract runs on it and on SQLite.

    Attributes:
        available: False makes every call raise StoreUnavailable (a full disk).
    """

    def __init__(self) -> None:
        self._forecasts: dict[ForecastKey, Forecast] = {}
        self._targets: tuple[Selector, ...] | None = None
        self._lock = threading.Lock()
        self.available = True
        self.writes = 0
        """Successful writes, so tests can count transactions."""

    def _check(self) -> None:
        if not self.available:
            raise StoreUnavailable("in-memory ETL state switched off")

    def pending_forecasts(self) -> list[Forecast]:
        """See ``EtlStateStore``."""
        self._check()
        with self._lock:
            return list(self._forecasts.values())

    def update_forecasts(
        self, added: Sequence[Forecast], removed: Sequence[ForecastKey]
    ) -> None:
        """See ``EtlStateStore``."""
        self._check()
        with self._lock:
            for key in removed:
                self._forecasts.pop(key, None)
            for forecast in added:
                self._forecasts[(forecast.series.id, forecast.made_at)] = forecast
            self.writes += 1

    def replace_forecasts(self, forecasts: Sequence[Forecast]) -> None:
        """See ``EtlStateStore``."""
        self._check()
        with self._lock:
            self._forecasts = {(f.series.id, f.made_at): f for f in forecasts}
            self.writes += 1

    def forecast_targets(self) -> list[Selector] | None:
        """See ``EtlStateStore``."""
        self._check()
        with self._lock:
            return None if self._targets is None else list(self._targets)

    def save_forecast_targets(self, selectors: Sequence[Selector]) -> None:
        """See ``EtlStateStore``."""
        self._check()
        with self._lock:
            self._targets = tuple(selectors)
            self.writes += 1
