"""Bearer-token check, URI length limit and request metrics, on every route."""

import hmac
import time
from typing import Any

import falcon
from prometheus_client import CollectorRegistry, Counter, Histogram

from adapters.rest.errors import Unauthorized

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})
CONSOLE = "/ui"
"""The web console checks the token itself: the header or its cookie (ui/auth.py)."""


MAX_URI = 8000
"""Longest path and query accepted, in characters, whichever server runs the app."""


def bearer_token(header: str) -> str | None:
    """The token of ``Bearer <token>``; the scheme is case-insensitive (RFC 7235)."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip(" "):
        return None
    return token.strip(" ")


class BearerToken:
    """Refuses every data route unless ``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self._expected = token.encode()

    def process_request(self, req: falcon.Request, _resp: falcon.Response) -> None:
        path = req.path
        if path in OPEN_PATHS or path == CONSOLE or path.startswith(CONSOLE + "/"):
            return
        header = req.get_header("Authorization") or ""
        given = bearer_token(header)
        if given is None:
            what = "not a Bearer token" if header else "missing"
            raise Unauthorized(f"the bearer token is {what}")
        if not hmac.compare_digest(given.encode(), self._expected):
            raise Unauthorized("the bearer token is wrong")


class UriLimit:
    """414 for a URI over ``MAX_URI`` characters (gunicorn's own limit is 8190)."""

    def process_request(self, req: falcon.Request, _resp: falcon.Response) -> None:
        if len(req.relative_uri) > MAX_URI:
            raise falcon.HTTPUriTooLong(
                description=f"the path and query may be at most {MAX_URI} characters"
            )


class RequestMetrics:
    """Counts and times requests by route template and status code."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        labels = ("method", "route", "status")
        self._count = Counter(
            "monitoring_api_requests",
            "HTTP requests served.",
            labels,
            registry=registry,
        )
        self._seconds = Histogram(
            "monitoring_api_request_seconds",
            "Time to serve an HTTP request.",
            labels,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=registry,
        )

    def process_request(self, req: falcon.Request, _resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, _res: Any, _ok: bool
    ) -> None:
        now = time.perf_counter()
        seconds = now - getattr(req.context, "started", now)
        route = req.uri_template or "unmatched"
        labels = (req.method, route, str(resp.status_code))
        self._count.labels(*labels).inc()
        self._seconds.labels(*labels).observe(seconds)
