"""The read-only REST API over stored results (``create_app``)."""

from collections.abc import Callable
from typing import Any

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from adapters.rest import errors, operations, resources
from adapters.rest.middleware import BearerToken, RequestMetrics
from adapters.rest.openapi import document
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
) -> App:
    """The WSGI app; every route reads ``queries`` and times come from ``clock``.

    Args:
        queries: the result store.
        clock: the "now" that sample ages are relative to.
        token: when set, every ``/v1`` route needs ``Authorization: Bearer``.
        registry: where request metrics are registered (a fresh one if None).
        exposition: what ``/metrics`` serves (the registry's text if None);
            gunicorn's multiprocess collector in production.
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
    _add_v1(app, queries, clock)
    return app


def _add_v1(app: App, queries: ResultQueries, clock: Clock) -> None:
    app.add_route("/v1/series", resources.SeriesList(queries, clock))
    app.add_route("/v1/series/{id}", resources.Series(queries, clock))
    app.add_route("/v1/series/{id}/metadata", resources.Metadata(queries, clock))
    app.add_route("/v1/series/{id}/values", resources.Values(queries, clock))
    app.add_route("/v1/series/{id}/values/history", resources.History(queries, clock))
    app.add_route(
        "/v1/series/{id}/forecast", resources.ForecastResource(queries, clock)
    )
    app.add_route("/v1/etl/runs", resources.EtlRuns(queries, clock))
