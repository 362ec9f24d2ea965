"""Open routes: liveness, readiness, metrics and the OpenAPI document."""

import json
from collections.abc import Callable
from typing import Any

import falcon

from adapters.rest.errors import problem
from monitoring_core.errors import StoreUnavailable
from monitoring_core.ports import ResultQueries


class Healthz:
    """``GET /healthz``: 200 while the process serves requests."""

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


class Readyz:
    """``GET /readyz``: 200 when the store answers, else a 503 problem."""

    def __init__(self, queries: ResultQueries) -> None:
        self._queries = queries

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        try:
            self._queries.ping()
        except StoreUnavailable:
            resp.set_header("Retry-After", "5")
            problem(resp, 503, "Not ready", "the result store cannot be reached")
            return
        resp.media = {"status": "ready"}


class Metrics:
    """``GET /metrics``: the Prometheus text exposition."""

    def __init__(self, exposition: Callable[[], tuple[bytes, str]]) -> None:
        self._exposition = exposition

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        resp.data, resp.content_type = self._exposition()


class OpenApi:
    """``GET /openapi.json``."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._body = json.dumps(document).encode()

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body
