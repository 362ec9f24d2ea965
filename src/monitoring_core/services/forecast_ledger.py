"""Forecasts awaiting their score, kept until their horizon has passed."""

import threading
from collections.abc import Sequence
from datetime import datetime

from monitoring_core.forecasts import Forecast, ForecastScore, score_forecast
from monitoring_core.series import SeriesHistory


class ForecastLedger:
    """Remembers forecasts; scores each once the values it predicted exist.

    Args:
        max_age_seconds: a forecast never scored after this long is dropped
            (its series vanished), so memory stays bounded.
    """

    def __init__(self, max_age_seconds: float) -> None:
        self._pending: dict[tuple[str, datetime], Forecast] = {}
        self._max_age = max_age_seconds
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    def remember(self, forecasts: Sequence[Forecast]) -> None:
        """Keep forecasts until they can be scored."""
        with self._lock:
            for f in forecasts:
                self._pending[(f.series.id, f.made_at)] = f

    def score(
        self, histories: Sequence[SeriesHistory], now: datetime
    ) -> list[ForecastScore]:
        """Score every forecast whose horizon ends inside the given histories."""
        by_id = {h.series.id: h for h in histories}
        scores = []
        with self._lock:
            for key, forecast in list(self._pending.items()):
                history = by_id.get(key[0])
                age = (now - forecast.made_at).total_seconds()
                if history and forecast.points[-1].timestamp <= history.end:
                    score = score_forecast(forecast, history, now)
                    scores.extend([score] if score else [])
                    del self._pending[key]
                elif age > self._max_age:
                    del self._pending[key]
        return scores
