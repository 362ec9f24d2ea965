"""Adds the web console's routes to the REST app (``add_console``)."""

import pathlib
from typing import Any
from urllib.parse import quote

import falcon

from adapters.rest.ui import pages
from adapters.rest.ui.alert_views import ConsoleAlerts
from monitoring_core.ports import Clock, ResultQueries
from monitoring_core.services.sla_console import SlaConsoleSource

STATIC = pathlib.Path(__file__).parent / "static"
DEFAULT_REFRESH_SECONDS = 30


def add_console(
    app: "falcon.App[falcon.Request, falcon.Response]",
    queries: ResultQueries,
    clock: Clock,
    *,
    token: str | None,
    sla: SlaConsoleSource | None,
    refresh_seconds: int = DEFAULT_REFRESH_SECONDS,
    alerts: ConsoleAlerts | None = None,
) -> None:
    """``/ui`` pages, ``/ui/static`` files and ``/docs`` (Swagger UI).

    Args:
        queries, clock: those of the ``/v1`` routes, so the numbers agree.
        token: the API token; the login form compares against it.
        sla: the SLA manager's answers, in process or over gRPC; None where
            no SLA manager is set (``monitoring api`` without
            ``MONITORING_SLA_ADDRESS``): the SLA pages then say so.
        refresh_seconds: how often a page reloads its live part.
        alerts: the Prometheus whose active alerts the SLA pages show (None:
            they say no Prometheus is configured).
    """
    shared = pages.Pages(queries, clock, sla, token, refresh_seconds, alerts)
    routes: list[tuple[str, Any]] = [
        ("/ui", pages.Overview(shared)),
        ("/ui/sla/{name}", pages.SlaDetail(shared)),
        ("/ui/sla/{name}/budget", pages.SlaBudget(shared)),
        ("/ui/slas/{name}", SlaLink()),
        ("/ui/series", pages.SeriesExplorer(shared)),
        ("/ui/series/{id}", pages.SeriesDetail(shared)),
        ("/ui/etl", pages.EtlRuns(shared)),
        ("/docs", pages.SwaggerDocs()),
    ]
    for path, resource in routes:
        resource.on_head = resource.on_get
        app.add_route(path, resource)
    login = pages.Login(shared)
    app.add_route("/ui/login", login)
    app.add_route("/ui/logout", login, suffix="logout")
    app.add_static_route("/ui/static", str(STATIC))


class SlaLink:
    """``GET /ui/slas/{name}``: the link in every generated alert (``sla_url``,
    docs/alerting.md) goes on to the SLA's page, ``/ui/sla/{name}`` (ADR 0057)."""

    def on_get(self, req: falcon.Request, _resp: falcon.Response, name: str) -> None:
        query = f"?{req.query_string}" if req.query_string else ""
        raise falcon.HTTPMovedPermanently(f"/ui/sla/{quote(name, safe='')}{query}")
