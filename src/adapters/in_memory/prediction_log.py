"""Recorded predictions in a dict, with the semantics of the SQL log."""

import threading
from collections.abc import Sequence
from datetime import datetime

from monitoring_core.errors import StoreUnavailable
from monitoring_core.ports import PredictionLog
from monitoring_core.prediction_scores import PredictionRecord


class InMemoryPredictionLog(PredictionLog):
    """A verified fake: the prediction log contract runs on it and on SQL."""

    def __init__(self) -> None:
        self._records: dict[tuple[int, str, int, str], PredictionRecord] = {}
        self._lock = threading.Lock()
        self.available = True

    def record(self, records: Sequence[PredictionRecord]) -> None:
        """Keep, replacing a record of the same series, objective and time."""
        if not self.available:
            raise StoreUnavailable("in-memory prediction log switched off")
        with self._lock:
            for r in records:
                key = (round(r.made_at * 1000), r.sla, r.objective, r.series.id)
                self._records[key] = r

    def between(
        self, sla: str, start: datetime, end: datetime
    ) -> list[PredictionRecord]:
        """The SLA's records made in ``[start, end)``, oldest first."""
        if not self.available:
            raise StoreUnavailable("in-memory prediction log switched off")
        lo, hi = round(start.timestamp() * 1000), round(end.timestamp() * 1000)
        with self._lock:
            return [
                self._records[k]
                for k in sorted(self._records)
                if k[1] == sla and lo <= k[0] < hi
            ]
