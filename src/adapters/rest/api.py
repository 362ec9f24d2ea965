"""The read-only REST API over stored results (``create_app``)."""

from collections.abc import Callable, Sequence
from typing import Any

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
)

from adapters.rest import errors, operations, resources
from adapters.rest.middleware import BearerToken, RequestMetrics, UriLimit
from adapters.rest.openapi import document
from adapters.rest.read_cache import CachedQueries
from adapters.rest.ui.alert_views import ConsoleAlerts
from adapters.rest.ui.auth import ConsoleAuth
from adapters.rest.ui.console import DEFAULT_REFRESH_SECONDS, add_console
from monitoring_core.ports import Clock, ResultQueries
from monitoring_core.services.sla_console import SlaConsoleSource

App = falcon.App[falcon.Request, falcon.Response]
Exposition = Callable[[], tuple[bytes, str]]
DEFAULT_WINDOWS = (3600, 10800, 43200)
"""The ETL's default windows (``MONITORING_WINDOWS=1h,3h,12h``)."""


def _exposition(registry: CollectorRegistry) -> Exposition:
    return lambda: (generate_latest(registry), CONTENT_TYPE_LATEST)


def create_app(
    queries: ResultQueries,
    clock: Clock,
    token: str | None,
    *,
    registry: CollectorRegistry | None = None,
    exposition: Exposition | None = None,
    cache_seconds: float = 0.0,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    sla: SlaConsoleSource | None = None,
    refresh_seconds: int = DEFAULT_REFRESH_SECONDS,
    alerts: ConsoleAlerts | None = None,
) -> App:
    """The WSGI app; every route reads ``queries`` and times come from ``clock``.

    Args:
        queries: the result store.
        clock: the "now" that sample ages are relative to.
        token: when set, every ``/v1`` route needs ``Authorization: Bearer``.
        registry: where request metrics are registered (a fresh one if None).
        exposition: what ``/metrics`` serves (the registry's text if None);
            gunicorn's multiprocess collector in production.
        cache_seconds: when above 0, single-series reads are reused for this
            long (``CachedQueries``) unless a request says
            ``Cache-Control: no-cache``.
        windows: the window lengths the ETL computes, in seconds; the history
            route refuses any other ``window`` with a 400 naming these.
        sla: what the console's SLA pages read of the SLA manager (None:
            the console shows series and ETL runs only).
        refresh_seconds: how often a console page reloads its live part.
        alerts: the Prometheus whose active alerts the console's SLA pages
            show (None: they say no Prometheus is configured).
    """
    registry = registry or CollectorRegistry()
    middleware: list[Any] = [RequestMetrics(registry), UriLimit()]
    if token:
        middleware += [BearerToken(token), ConsoleAuth(token)]
    app: App = falcon.App(middleware=middleware)
    errors.register(app)
    spec = document()
    _route(app, "/healthz", operations.Healthz())
    _route(app, "/readyz", operations.Readyz(queries))
    _route(app, "/metrics", operations.Metrics(exposition or _exposition(registry)))
    _route(app, "/openapi.json", operations.OpenApi(spec))
    cached = queries
    if cache_seconds > 0:
        cached = CachedQueries(queries, cache_seconds, _lookups(registry))
    _add_v1(app, cached, clock, queries, tuple(sorted(set(windows))))
    add_console(
        app,
        cached,
        clock,
        token=token,
        sla=sla,
        refresh_seconds=refresh_seconds,
        alerts=alerts,
    )
    return app


def _route(app: App, path: str, resource: Any) -> None:
    """Add a GET route that answers HEAD too: the same headers, no body.

    Falcon routes HEAD only to ``on_head`` and drops the body of a HEAD answer
    itself (keeping Content-Length), so ``on_get`` serves both.
    """
    if not hasattr(resource, "on_head"):
        resource.on_head = resource.on_get
    app.add_route(path, resource)


def _lookups(registry: CollectorRegistry) -> Callable[[bool], None]:
    counter = Counter(
        "monitoring_api_cache_lookups",
        "Single-series reads answered from the worker's cache (hit) or not (miss).",
        ("result",),
        registry=registry,
    )
    hit, miss = counter.labels("hit"), counter.labels("miss")
    return lambda found: (hit if found else miss).inc()


def _add_v1(
    app: App,
    queries: ResultQueries,
    clock: Clock,
    fresh: ResultQueries,
    windows: tuple[int, ...],
) -> None:
    _route(app, "/v1/series", resources.SeriesList(queries, clock))
    for path, resource in (
        ("/v1/series/{id}", resources.Series),
        ("/v1/series/{id}/metadata", resources.Metadata),
        ("/v1/series/{id}/values", resources.Values),
        ("/v1/series/{id}/forecast", resources.ForecastResource),
        ("/v1/series/{id}/forecast/scores", resources.ScoreHistory),
    ):
        _route(app, path, resource(queries, clock, fresh))
    history = resources.History(queries, clock, fresh, windows=windows)
    _route(app, "/v1/series/{id}/values/history", history)
    _route(app, "/v1/etl/runs", resources.EtlRuns(queries, clock))
    _route(app, "/v1/etl/shards", resources.EtlShards(queries, clock))
