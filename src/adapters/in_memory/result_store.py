"""A result store in dicts, with the semantics of the SQL store (a verified fake)."""

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import attrs

from monitoring_core.errors import StoreUnavailable
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import ResultQueries, ResultStore
from monitoring_core.results import Result, result_type, tag_of
from monitoring_core.runs import EtlRun
from monitoring_core.series import MetricKind, SeriesKey, SeriesRecord
from monitoring_core.windows import SeriesWindowStats

LIMITS = {"series name": 255, "model": 64, "run id": 64, "worker": 255}
"""Longest texts the SQL columns hold; the database refuses longer ones too."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_END = datetime.max.replace(tzinfo=UTC)
History = dict[str, dict[int, Any]]
"""Series id -> key time in epoch ms -> what is stored."""


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _MS


def _trunc(moment: datetime) -> datetime:
    """To the millisecond, as the SQL store keeps times."""
    return _EPOCH + _ms(moment) * _MS


def _trunc_unix(seconds: float | None) -> float | None:
    return None if seconds is None else _ms(datetime.fromtimestamp(seconds, UTC)) / 1000


def _series_texts(result: Any) -> dict[str, str]:
    return {"series name": result.series.name}


def _run_texts(result: EtlRun) -> dict[str, str]:
    texts = {"run id": result.run_id}
    return texts if result.worker is None else {**texts, "worker": result.worker}


def _model_texts(result: Any) -> dict[str, str]:
    return {"model": result.model, "series name": result.series.name}


Stored = tuple[Any, datetime, datetime]
"""A result as stored (times to the millisecond), its key time, when seen."""


def _metadata(result: SeriesMetadata) -> Stored:
    at = _trunc(result.computed_at)
    return attrs.evolve(result, computed_at=at), at, at


def _forecast(result: Forecast) -> Stored:
    at = _trunc(result.made_at)
    return attrs.evolve(result, made_at=at), at, at


def _score(result: ForecastScore) -> Stored:
    made, scored = _trunc(result.forecast_made_at), _trunc(result.scored_at)
    kept = attrs.evolve(result, forecast_made_at=made, scored_at=scored)
    return kept, made, scored


def _check(results: Sequence[Result]) -> None:
    for result in results:
        for what, text in _kept(tag_of(result)).texts(result).items():
            if len(text) > LIMITS[what]:
                raise StoreUnavailable(f"refused: {what} longer than {LIMITS[what]}")


def _windows(result: SeriesWindowStats) -> dict[int, Any]:
    return {
        w.window_seconds: (
            result.kind,
            attrs.evolve(w, last_timestamp=_trunc_unix(w.last_timestamp)),
        )
        for w in result.windows
    }


def _latest(history: History, series_id: str) -> Any:
    times = history.get(series_id)
    return times[max(times)] if times else None


def _stats(key: SeriesKey, at: int, windows: dict[int, Any]) -> SeriesWindowStats:
    ordered = [windows[w] for w in sorted(windows)]
    return SeriesWindowStats(
        series=key,
        kind=ordered[0][0],
        at=_EPOCH + at * _MS,
        windows=tuple(stats for _, stats in ordered),
    )


class InMemoryResultStore(ResultStore, ResultQueries):
    """Results in dicts keyed by the SQL tables' natural keys.

    Times are kept to the millisecond and texts longer than the SQL columns are
    refused, as by the database. Set ``available`` to False to simulate an
    outage: every call then raises StoreUnavailable.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[str, SeriesRecord] = {}
        self._history: dict[str, History] = {
            name: {} for name in ("window_stats", "metadata", "forecasts", "scores")
        }
        self._runs: dict[str, EtlRun] = {}
        self.available = True

    @contextlib.contextmanager
    def _open(self) -> Iterator[None]:
        if not self.available:
            raise StoreUnavailable("in-memory store switched off")
        with self._lock:
            yield

    def write(self, results: Sequence[Result]) -> None:
        """Keep every result, replacing any with the same key; all or nothing."""
        _check(results)
        with self._open():
            for result in results:
                self._keep(result)

    def _keep(self, result: Result) -> None:
        _kept(tag_of(result)).keep(self, result)

    def _keep_plain(self, result: Any) -> None:
        declared = result_type(result)
        seen = _trunc(declared.seen_at(result))
        series = declared.series(result)
        if series is not None:
            self._see(series, None, seen)
        times = self._history.setdefault(declared.tag, {})
        times.setdefault(declared.key(result), {})[_ms(seen)] = _truncated(result)

    def _keep_latest(self, history: str, stored: Stored) -> None:
        kept, at, seen = stored
        self._see(kept.series, None, seen)
        self._history[history].setdefault(kept.series.id, {})[_ms(at)] = kept

    def _keep_window_stats(self, result: SeriesWindowStats) -> None:
        at = _trunc(result.at)
        self._see(result.series, result.kind, at)
        times = self._history["window_stats"].setdefault(result.series.id, {})
        times.setdefault(_ms(at), {}).update(_windows(result))

    def _keep_run(self, result: EtlRun) -> None:
        started, finished = _trunc(result.started_at), _trunc(result.finished_at)
        run = attrs.evolve(result, started_at=started, finished_at=finished)
        self._runs[run.run_id] = run

    def _see(self, key: SeriesKey, kind: MetricKind | None, seen: datetime) -> None:
        old = self._series.get(key.id) or SeriesRecord(
            key=key, kind=kind or MetricKind.GAUGE, first_seen=seen, last_seen=seen
        )
        self._series[key.id] = attrs.evolve(
            old,
            kind=kind or old.kind,
            first_seen=min(old.first_seen, seen),
            last_seen=max(old.last_seen, seen),
        )

    def prune(self, older_than: datetime, batch_size: int) -> int:
        """Drop history whose key time is before ``older_than``; series stay."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        cutoff = _ms(older_than)
        with self._open():
            deleted = sum(_prune(h, cutoff) for h in self._history.values())
            old = [r.run_id for r in self._runs.values() if _ms(r.started_at) < cutoff]
            for run_id in old:
                del self._runs[run_id]
        return deleted + len(old)

    def get_series(self, series_id: str) -> SeriesRecord | None:
        """See ``ResultQueries``."""
        with self._open():
            return self._series.get(series_id)

    def list_series(
        self, name: str | None, after_id: str | None, limit: int
    ) -> list[SeriesRecord]:
        """See ``ResultQueries``."""
        with self._open():
            ids = sorted(i for i in self._series if after_id is None or i > after_id)
            found = (self._series[i] for i in ids)
            chosen = [s for s in found if name is None or s.key.name == name]
        return chosen[:limit]

    def latest_window_stats(self, series_id: str) -> SeriesWindowStats | None:
        """See ``ResultQueries``."""
        found = self.window_stats_between(series_id, _EPOCH, _END)
        return found[-1] if found else None

    def window_stats_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[SeriesWindowStats]:
        """See ``ResultQueries``."""
        low, high = _ms(start), _ms(end)
        with self._open():
            times = self._history["window_stats"].get(series_id) or {}
            chosen = [at for at in sorted(times) if low <= at <= high]
            if not chosen:
                return []
            key = self._series[series_id].key
            return [_stats(key, at, times[at]) for at in chosen]

    def _latest(self, table: str, series_id: str) -> Any:
        with self._open():
            return _latest(self._history[table], series_id)

    def latest_metadata(self, series_id: str) -> SeriesMetadata | None:
        """See ``ResultQueries``."""
        found: SeriesMetadata | None = self._latest("metadata", series_id)
        return found

    def latest_forecast(self, series_id: str) -> Forecast | None:
        """See ``ResultQueries``."""
        found: Forecast | None = self._latest("forecasts", series_id)
        return found

    def latest_forecast_score(self, series_id: str) -> ForecastScore | None:
        """See ``ResultQueries``."""
        found: ForecastScore | None = self._latest("scores", series_id)
        return found

    def forecast_scores_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[ForecastScore]:
        """See ``ResultQueries``."""
        low, high = _ms(start), _ms(end)
        with self._open():
            times = self._history["scores"].get(series_id) or {}
            return [times[at] for at in sorted(times) if low <= at <= high]

    def etl_runs(self, limit: int) -> list[EtlRun]:
        """See ``ResultQueries``: newest first."""
        with self._open():
            runs = sorted(self._runs.values(), key=lambda r: (r.started_at, r.run_id))
        return runs[::-1][:limit]

    def ping(self) -> None:
        """Raise StoreUnavailable when switched off."""
        with self._open():
            pass


class _Kept(NamedTuple):
    """How the store keeps one result type."""

    texts: Callable[[Any], dict[str, str]]
    """The texts a SQL column limits, by what they are (checked in this order)."""
    keep: Callable[[InMemoryResultStore, Any], None]


def _latest_in(
    history: str, stored: Callable[[Any], Stored]
) -> Callable[[InMemoryResultStore, Any], None]:
    return lambda store, result: store._keep_latest(history, stored(result))


KEPT = {
    "window_stats": _Kept(_series_texts, InMemoryResultStore._keep_window_stats),
    "metadata": _Kept(_series_texts, _latest_in("metadata", _metadata)),
    "forecast": _Kept(_model_texts, _latest_in("forecasts", _forecast)),
    "forecast_score": _Kept(_model_texts, _latest_in("scores", _score)),
    "etl_run": _Kept(_run_texts, InMemoryResultStore._keep_run),
}
"""How each result type is kept, by tag; a type without an entry is kept by its
key and key time (``_keep_plain``), as the SQL store keeps it by default."""


def _kept(tag: str) -> _Kept:
    return KEPT.get(tag) or _Kept(lambda _: {}, InMemoryResultStore._keep_plain)


def _truncated(result: Any) -> Any:
    """Every time of a result to the millisecond."""
    times = {
        f.name: _trunc(value)
        for f in attrs.fields(type(result))
        if isinstance(value := getattr(result, f.name), datetime)
    }
    return attrs.evolve(result, **times)


def _prune(history: History, cutoff: int) -> int:
    """Delete entries before ``cutoff``; a window-statistics entry counts one
    per window, like the rows of the SQL table."""
    deleted = 0
    for times in history.values():
        for at in [t for t in times if t < cutoff]:
            entry = times.pop(at)
            deleted += len(entry) if isinstance(entry, dict) else 1
    return deleted
