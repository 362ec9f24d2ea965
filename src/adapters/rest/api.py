"""The read-only REST API over stored results (``create_app``)."""

from collections.abc import Callable
from typing import Any

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
)

from adapters.rest import errors, operations, resources
from adapters.rest.middleware import BearerToken, RequestMetrics
from adapters.rest.openapi import document
from adapters.rest.read_cache import CachedQueries
from monitoring_core.ports import Clock, ResultQueries

App = falcon.App[falcon.Request, falcon.Response]
Exposition = Callable[[], tuple[bytes, str]]


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
    """
    registry = registry or CollectorRegistry()
    middleware: list[Any] = [RequestMetrics(registry)]
    if token:
        middleware.append(BearerToken(token))
    app: App = falcon.App(middleware=middleware)
    errors.register(app)
    spec = document()
    app.add_route("/healthz", operations.Healthz())
    app.add_route("/readyz", operations.Readyz(queries))
    app.add_route("/metrics", operations.Metrics(exposition or _exposition(registry)))
    app.add_route("/openapi.json", operations.OpenApi(spec))
    app.add_route("/docs", operations.Docs(spec))
    cached = queries
    if cache_seconds > 0:
        cached = CachedQueries(queries, cache_seconds, _lookups(registry))
    _add_v1(app, cached, clock, queries)
    return app


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
    app: App, queries: ResultQueries, clock: Clock, fresh: ResultQueries
) -> None:
    app.add_route("/v1/series", resources.SeriesList(queries, clock))
    for path, resource in (
        ("/v1/series/{id}", resources.Series),
        ("/v1/series/{id}/metadata", resources.Metadata),
        ("/v1/series/{id}/values", resources.Values),
        ("/v1/series/{id}/values/history", resources.History),
        ("/v1/series/{id}/forecast", resources.ForecastResource),
    ):
        app.add_route(path, resource(queries, clock, fresh))
    app.add_route("/v1/etl/runs", resources.EtlRuns(queries, clock))
