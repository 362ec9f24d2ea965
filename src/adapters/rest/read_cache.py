"""A short-lived per-process cache of the single-series reads (``CachedQueries``).

Stored results change once per ETL cycle (a minute or more), and responses
already tell clients they may reuse them for ``MAX_AGE`` seconds; keeping each
answer for a few seconds in the worker that read it spares the database most
repeated reads of the same series. Listings, history, ETL runs and ``ping``
always reach the store.
"""

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar, cast

from adapters.bounded_cache import BoundedCache
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import ResultQueries
from monitoring_core.runs import EtlRun
from monitoring_core.series import SeriesRecord
from monitoring_core.windows import SeriesWindowStats

T = TypeVar("T")
MAX_ENTRIES = 10_000
"""Answers kept per process at most; the oldest are dropped first."""


class CachedQueries(ResultQueries):
    """``queries`` whose single-series answers are reused for ``seconds``.

    Every answer is kept, None (unknown series, nothing yet) included, so an
    answer is never older than ``seconds``. A store error is never kept: while
    the store is down, answers read before stay until they expire, then every
    read raises ``StoreUnavailable`` again. Safe to share between threads.

    Args:
        queries: the store.
        seconds: how long an answer is reused; more than 0.
        looked_up: called with True on a hit and False on a miss (metrics).
        monotonic: the clock of the expiry times.
        max_entries: answers kept at most.
    """

    def __init__(
        self,
        queries: ResultQueries,
        seconds: float,
        looked_up: Callable[[bool], None] = lambda _hit: None,
        monotonic: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        if seconds <= 0 or max_entries < 1:
            raise ValueError(f"need seconds > 0 and max_entries >= 1: {seconds}")
        self._queries = queries
        self._seconds = seconds
        self._looked_up = looked_up
        self._monotonic = monotonic
        self._entries: BoundedCache[tuple[str, str], tuple[float, object]]
        self._entries = BoundedCache(max_entries)
        self._lock = threading.Lock()

    def _cached(self, what: str, series_id: str, read: Callable[[str], T]) -> T:
        key, now = (what, series_id), self._monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            self._looked_up(True)
            return cast(T, entry[1])  # stored by ``read`` under this ``what``
        self._looked_up(False)
        found = read(series_id)
        with self._lock:
            self._entries.keep(key, (now + self._seconds, found))
        return found

    def get_series(self, series_id: str) -> SeriesRecord | None:
        """Cached; see ``ResultQueries``."""
        return self._cached("series", series_id, self._queries.get_series)

    def latest_window_stats(self, series_id: str) -> SeriesWindowStats | None:
        """Cached; see ``ResultQueries``."""
        return self._cached("stats", series_id, self._queries.latest_window_stats)

    def latest_metadata(self, series_id: str) -> SeriesMetadata | None:
        """Cached; see ``ResultQueries``."""
        return self._cached("metadata", series_id, self._queries.latest_metadata)

    def latest_forecast(self, series_id: str) -> Forecast | None:
        """Cached; see ``ResultQueries``."""
        return self._cached("forecast", series_id, self._queries.latest_forecast)

    def latest_forecast_score(self, series_id: str) -> ForecastScore | None:
        """Cached; see ``ResultQueries``."""
        read = self._queries.latest_forecast_score
        return self._cached("score", series_id, read)

    def list_series(
        self, name: str | None, after_id: str | None, limit: int
    ) -> list[SeriesRecord]:
        """Not cached; see ``ResultQueries``."""
        return self._queries.list_series(name, after_id, limit)

    def forecast_scores_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[ForecastScore]:
        """Not cached; see ``ResultQueries``."""
        return self._queries.forecast_scores_between(series_id, start, end)

    def window_stats_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[SeriesWindowStats]:
        """Not cached; see ``ResultQueries``."""
        return self._queries.window_stats_between(series_id, start, end)

    def etl_runs(self, limit: int) -> list[EtlRun]:
        """Not cached; see ``ResultQueries``."""
        return self._queries.etl_runs(limit)

    def ping(self) -> None:
        """Never cached: readiness is about the store now; see ``ResultQueries``."""
        self._queries.ping()
