"""The console's pages: Falcon resources rendering Jinja2 templates.

Each page renders its tables on the server (readable without JavaScript) and
embeds the data of its charts as a JSON block that ``static/console.js`` draws
with uPlot; htmx reloads the ``#live`` part of the page every
``refresh_seconds`` without a full reload.
"""

import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import falcon
import jinja2
import markupsafe
import msgspec

from adapters.rest.errors import UnknownSeries
from adapters.rest.ui import alert_views, series_views, sla_views
from adapters.rest.ui.alert_views import ConsoleAlerts
from adapters.rest.ui.auth import clear_session, safe_next, set_session
from monitoring_core.errors import InvalidSelector, MonitoringError, SlaNotFound
from monitoring_core.ports import Clock, ResultQueries
from monitoring_core.selectors import parse_selector
from monitoring_core.services.sla_console import SlaConsoleSource
from monitoring_core.sharding import compact

log = logging.getLogger(__name__)
RANGES = {"1h": 3600, "3h": 10800, "12h": 43200, "24h": 86400, "7d": 604800}
DEFAULT_RANGE = "12h"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


NO_SLA_MANAGER = (
    "No SLA manager is set for this process: set MONITORING_SLA_ADDRESS to the "
    "SLA manager's host:port (or use monitoring run) to show SLAs here."
)


def environment() -> jinja2.Environment:
    """The templates shipped in this package, HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("adapters.rest.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["utc"] = _utc
    env.filters["json_block"] = json_block
    env.filters["pct"] = _pct
    env.filters["shard_ranges"] = compact
    return env


_UNSAFE = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"))


def json_block(value: Any) -> markupsafe.Markup:
    """JSON for a ``<script type="application/json">`` block, as Jinja's
    ``tojson`` escapes it (no ``</script>`` can end the block), encoded by
    msgspec: a detail page of 50 objectives embeds megabytes of numbers."""
    text = msgspec.json.encode(value).decode()
    for unsafe, escaped in _UNSAFE:  # str.replace: far faster than translate
        text = text.replace(unsafe, escaped)
    return markupsafe.Markup(text)


def _pct(value: Any) -> str:
    """A share as a percentage; what JSON spells as text (or None) as a dash."""
    return f"{value:.2%}" if isinstance(value, int | float) else "–"


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Pages:
    """What every page shares: templates, queries, clock and settings."""

    def __init__(
        self,
        queries: ResultQueries,
        clock: Clock,
        sla: SlaConsoleSource | None,
        token: str | None,
        refresh_seconds: int,
        alerts: ConsoleAlerts | None = None,
    ) -> None:
        self.queries = queries
        self.clock = clock
        self.sla = sla
        self.token = token
        self.refresh_seconds = refresh_seconds
        self.alerts = alerts
        """Prometheus' active alerts (None: no Prometheus configured)."""
        self._env = environment()

    def render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> None:
        """Write ``template`` as the answer, with the shared context."""
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", CSP)
        resp.set_header("Cache-Control", "no-store")
        context.setdefault("notice", None)
        resp.text = self._env.get_template(template).render(
            path=req.path,
            self_url=req.relative_uri,
            refresh=self.refresh_seconds,
            signed_in=bool(self.token),
            now=self.clock.now(),
            **context,
        )

    def range_of(self, req: falcon.Request) -> tuple[str, int, str | None]:
        """The chosen range, its seconds, and a notice when the asked one is unknown."""
        asked = req.get_param("range") or DEFAULT_RANGE
        if asked in RANGES:
            return asked, RANGES[asked], None
        known = ", ".join(RANGES)
        notice = f"unknown range {asked!r}: showing {DEFAULT_RANGE} (one of {known})"
        return DEFAULT_RANGE, RANGES[DEFAULT_RANGE], notice

    def range_links(self, req: falcon.Request, chosen: str) -> list[dict[str, Any]]:
        """The range picker: the same page and query with another ``range``."""
        kept = [
            (k, v) for k, v in req.params.items() if k != "range" and isinstance(v, str)
        ]
        return [
            {
                "name": name,
                "href": f"{req.path}?{urlencode([*kept, ('range', name)])}",
                "current": name == chosen,
            }
            for name in RANGES
        ]

    def sla_source(
        self, req: falcon.Request, resp: falcon.Response
    ) -> SlaConsoleSource | None:
        """The SLA manager; None after answering 404 saying how to set one."""
        if self.sla is None:
            title = "No SLA manager"
            self.render(
                req, resp, "error.html", 404, title=title, message=NO_SLA_MANAGER
            )
        return self.sla

    def failed(
        self, req: falcon.Request, resp: falcon.Response, exc: MonitoringError
    ) -> None:
        """A dependency is down: say so on a page (503), keep the console usable."""
        log.warning("console page %s: %s", req.path, exc)
        resp.set_header("Retry-After", "5")
        self.render(
            req,
            resp,
            "error.html",
            503,
            title="Temporarily unavailable",
            message=f"A dependency did not answer: {exc}. The page retries by itself.",
        )


def _guarded(page: Callable[..., None]) -> Callable[..., None]:
    """Render a dependency failure as a 503 page instead of a JSON problem."""

    def on_get(
        self: Any, req: falcon.Request, resp: falcon.Response, **kw: Any
    ) -> None:
        try:
            page(self, req, resp, **kw)
        except (SlaNotFound, UnknownSeries) as exc:
            what = "SLA" if isinstance(exc, SlaNotFound) else "series"
            self.pages.render(
                req,
                resp,
                "error.html",
                404,
                title=f"No such {what}",
                message=f"There is no {what} {kw.get('name') or kw.get('id')!r}.",
            )
        except MonitoringError as exc:
            self.pages.failed(req, resp, exc)

    return on_get


class Overview:
    """``GET /ui``: every SLA with its status, budget, burn and prediction."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    @_guarded
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query, sort = req.get_param("q") or "", req.get_param("sort") or "name"
        rows: list[dict[str, Any]] = []
        snapshot = None
        if self.pages.sla is not None:
            rows, snapshot = sla_views.overview(self.pages.sla, query, sort)
        wanted = req.get_param("alerts") or ""
        alerts = alert_views.read(self.pages.alerts)
        rows, notice = alert_views.overview_rows(rows, alerts, wanted, sort)
        windows = [w["window"] for w in rows[0]["windows"]] if rows else []
        horizons = [r["predicted"].get("horizon") for r in rows]
        self.pages.render(
            req,
            resp,
            "overview.html",
            title="SLAs",
            rows=rows,
            windows=windows,
            horizon=next((h for h in horizons if h), None),
            snapshot=snapshot,
            has_sla=self.pages.sla is not None,
            no_sla_manager=NO_SLA_MANAGER,
            query=query,
            sort=sort,
            sort_keys=(*sla_views.SORT_KEYS, "alerts"),
            alerts=alerts,
            alert_filter=wanted,
            alert_filters=alert_views.FILTERS,
            notice=notice,
            data={"slas": rows},
        )


class SlaDetail:
    """``GET /ui/sla/{name}``: every objective's figures, charts and scores."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    @_guarded
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        chosen, seconds, notice = self.pages.range_of(req)
        source = self.pages.sla_source(req, resp)
        if source is None:
            return
        found = sla_views.detail(source, self.pages.queries, name, seconds)
        alerts = alert_views.detail(alert_views.read(self.pages.alerts), name)
        self.pages.render(
            req,
            resp,
            "sla.html",
            title=f"SLA {name}",
            sla=found,
            alerts=alerts,
            ranges=self.pages.range_links(req, chosen),
            notice=notice,
            data=found,
        )


class SlaBudget:
    """``GET /ui/sla/{name}/budget?objective=``: an objective's budget burn-down."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    @_guarded
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        chosen, seconds, notice = self.pages.range_of(req)
        raw = req.get_param("objective") or "0"
        source = self.pages.sla_source(req, resp)
        if source is None:
            return
        if not raw.isdigit() or len(raw) > 4:
            raise SlaNotFound(name)
        found = sla_views.burn_down(source, name, int(raw), seconds)
        self.pages.render(
            req,
            resp,
            "budget.html",
            title=f"SLA {name}, objective {raw}: error budget",
            burn=found,
            ranges=self.pages.range_links(req, chosen),
            notice=notice,
            data=found,
        )


class SeriesExplorer:
    """``GET /ui/series?match=``: find series by a PromQL selector."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    @_guarded
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        match = (req.get_param("match") or "").strip()
        notice, selectors = None, []
        if match:
            try:
                selectors = [parse_selector(match)]
            except InvalidSelector as exc:
                notice = str(exc)
        listed = None if notice else series_views.listing(self.pages.queries, selectors)
        self.pages.render(
            req,
            resp,
            "series_list.html",
            title="Series",
            match=match,
            notice=notice,
            listed=listed,
            data=listed,
        )


class SeriesDetail:
    """``GET /ui/series/{id}``: statistics, metadata and forecast of one series."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    @_guarded
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        chosen, seconds, notice = self.pages.range_of(req)
        found = series_views.series_page(
            self.pages.queries, id, self.pages.clock.now(), seconds
        )
        self.pages.render(
            req,
            resp,
            "series.html",
            title=f"Series {found['series']['name']}",
            found=found,
            ranges=self.pages.range_links(req, chosen),
            notice=notice,
            data=found,
        )


class EtlRuns:
    """``GET /ui/etl``: recent ETL cycles, their phases, errors and series."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    @_guarded
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        found = series_views.runs(self.pages.queries, 100)
        self.pages.render(
            req, resp, "etl.html", title="ETL runs", runs=found, data=found
        )


class Login:
    """``GET/POST /ui/login``: the token form; ``POST /ui/logout`` signs out."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.pages.render(
            req,
            resp,
            "login.html",
            title="Sign in",
            next=safe_next(req.get_param("next")),
            error=None,
            needed=bool(self.pages.token),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.get_media(default_when_empty={})
        given = str(form.get("token", "")) if isinstance(form, dict) else ""
        target = safe_next(
            str(form.get("next", "")) if isinstance(form, dict) else None
        )
        expected = self.pages.token or ""
        if expected and hmac.compare_digest(given.encode(), expected.encode()):
            set_session(req, resp, expected)
            raise falcon.HTTPSeeOther(target)
        self.pages.render(
            req,
            resp,
            "login.html",
            401 if expected else 200,
            title="Sign in",
            next=target,
            error="That is not the API token." if expected else None,
            needed=bool(expected),
        )

    def on_post_logout(self, _req: falcon.Request, resp: falcon.Response) -> None:
        clear_session(resp)
        raise falcon.HTTPSeeOther("/ui/login")


class SwaggerDocs:
    """``GET /docs``: Swagger UI over ``/openapi.json``, with "try it out"."""

    def __init__(self) -> None:
        self._page = environment().get_template("docs.html").render().encode()

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", CSP)
        resp.data = self._page
