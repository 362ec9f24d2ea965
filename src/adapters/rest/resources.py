"""The resources under ``/v1``: each reads ``ResultQueries`` and nothing else."""

from datetime import timedelta

import falcon

from adapters.rest import params, representation
from adapters.rest.caching import send_json
from adapters.rest.errors import UnknownSeries
from adapters.rest.shard_report import MOST_SHARDS, shard_report
from monitoring_core.ports import Clock, ResultQueries
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesRecord

MAX_PAGE = 1000
SCAN_PAGES = 10
"""A filtered listing scans at most this many store pages per request."""
HISTORY_DEFAULT = timedelta(hours=24)
HISTORY_LONGEST = timedelta(days=7)
MAX_AGE = 15
"""Seconds a client may reuse a response; results change once per ETL cycle."""


class _SeriesResource:
    def __init__(
        self, queries: ResultQueries, clock: Clock, fresh: ResultQueries | None = None
    ) -> None:
        self._queries = queries
        self._fresh = queries if fresh is None else fresh
        self._clock = clock

    def _reads(self, req: falcon.Request) -> ResultQueries:
        """``fresh`` when the client sends ``Cache-Control: no-cache``."""
        directives = (req.get_header("Cache-Control") or "").lower()
        return self._fresh if "no-cache" in directives else self._queries

    def _series(self, queries: ResultQueries, series_id: str) -> SeriesRecord:
        found = None
        if params.SERIES_ID.fullmatch(series_id):
            found = queries.get_series(series_id)
        if found is None:
            raise UnknownSeries(series_id)
        return found


def _store_name(name: str | None, selectors: list[Selector]) -> str | None:
    """The one metric name the store may filter on, when there is one."""
    names = {s.metric_name for s in selectors}
    if name is not None or not selectors or len(names) != 1:
        return name
    return names.pop()


def _selected(record: SeriesRecord, selectors: list[Selector]) -> bool:
    key = record.key
    return not selectors or any(s.matches(key.name, key.label_map) for s in selectors)


def scan_series(
    queries: ResultQueries,
    selectors: list[Selector],
    name: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[SeriesRecord], str | None]:
    """Up to ``limit`` chosen series and the id to continue after (None: done)."""
    size = MAX_PAGE if selectors else limit
    chosen: list[SeriesRecord] = []
    for _ in range(SCAN_PAGES):
        batch = queries.list_series(name, after, size)
        for record in batch:
            after = record.key.id
            if _selected(record, selectors):
                chosen.append(record)
                if len(chosen) == limit:
                    return chosen, after
        if len(batch) < size:
            return chosen, None
    return chosen, after  # a short page: the scan budget ran out, not the series


class SeriesList(_SeriesResource):
    """``GET /v1/series``: filtered by ``name`` and ``match[]``, cursor-paginated."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = params.integer(req, "limit", 100, MAX_PAGE)
        selectors, after = params.selectors(req), params.cursor(req)
        name = _store_name(req.get_param("name"), selectors)
        chosen, after = scan_series(self._queries, selectors, name, after, limit)
        cursor = None if after is None else params.encode_cursor(after)
        send_json(req, resp, representation.page(chosen, cursor), MAX_AGE)


class Series(_SeriesResource):
    """``GET /v1/series/{id}``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        body = representation.series(self._series(self._reads(req), id))
        send_json(req, resp, body, MAX_AGE)


class Metadata(_SeriesResource):
    """``GET /v1/series/{id}/metadata``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        queries = self._reads(req)
        record = self._series(queries, id)
        found = queries.latest_metadata(id)
        send_json(req, resp, representation.metadata(record, found), MAX_AGE)


class Values(_SeriesResource):
    """``GET /v1/series/{id}/values``: latest statistics and the sample's age."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        # One store call when statistics exist (the hot path); the series
        # itself is only looked up to tell "no statistics yet" from a 404.
        queries, stats = self._reads(req), None
        if params.SERIES_ID.fullmatch(id):
            stats = queries.latest_window_stats(id)
        now = self._clock.now()
        if stats is not None:
            body = representation.values(stats.series, stats.kind, stats, now)
        else:
            record = self._series(queries, id)
            body = representation.values(record.key, record.kind, None, now)
        send_json(req, resp, body, MAX_AGE)


class History(_SeriesResource):
    """``GET /v1/series/{id}/values/history?from=&to=&window=``."""

    def __init__(
        self,
        queries: ResultQueries,
        clock: Clock,
        fresh: ResultQueries | None = None,
        *,
        windows: tuple[int, ...],
    ) -> None:
        super().__init__(queries, clock, fresh)
        self._windows = windows

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        span = params.span(req, self._clock.now(), HISTORY_DEFAULT, HISTORY_LONGEST)
        only = params.window(req, self._windows)
        queries = self._reads(req)
        record = self._series(queries, id)
        found = queries.window_stats_between(id, *span)
        body = representation.history(record, found, span, only)
        send_json(req, resp, body, MAX_AGE)


class ForecastResource(_SeriesResource):
    """``GET /v1/series/{id}/forecast``: latest forecast and score."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        queries = self._reads(req)
        record = self._series(queries, id)
        found = queries.latest_forecast(id)
        score = queries.latest_forecast_score(id)
        body = representation.forecast(record, found, score)
        send_json(req, resp, body, MAX_AGE)


class ScoreHistory(_SeriesResource):
    """``GET /v1/series/{id}/forecast/scores?from=&to=``: past forecast scores."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        span = params.span(req, self._clock.now(), HISTORY_DEFAULT, HISTORY_LONGEST)
        queries = self._reads(req)
        record = self._series(queries, id)
        found = queries.forecast_scores_between(id, *span)
        body = representation.score_history(record, found, span)
        send_json(req, resp, body, MAX_AGE)


class EtlRuns(_SeriesResource):
    """``GET /v1/etl/runs?limit=``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = params.integer(req, "limit", 20, 500)
        body = representation.runs(self._queries.etl_runs(limit))
        send_json(req, resp, body, MAX_AGE)


SHARDS_SINCE = timedelta(hours=24)


class EtlShards(_SeriesResource):
    """``GET /v1/etl/shards?since=&shards=``: each shard's worker and last analysis."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        longest = int(HISTORY_LONGEST.total_seconds())
        since = params.duration(
            req, "since", int(SHARDS_SINCE.total_seconds()), longest
        )
        count = None
        if req.get_param("shards") is not None:
            count = params.integer(req, "shards", 1, MOST_SHARDS)
        now = self._clock.now()
        report = shard_report(self._queries, now, timedelta(seconds=since), count)
        send_json(req, resp, representation.shards(report, now), MAX_AGE)
