"""A small Falcon app with ``/healthz`` and ``/metrics`` for any service."""

import json
from collections.abc import Callable
from typing import Any

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]
"""Returns whether the service is healthy and details to show."""


class _Health:
    def __init__(self, check: HealthCheck) -> None:
        self._check = check

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        healthy, details = self._check()
        resp.status = falcon.HTTP_200 if healthy else falcon.HTTP_503
        resp.content_type = falcon.MEDIA_JSON
        resp.text = json.dumps(
            {"status": "ok" if healthy else "unhealthy", **details}, default=str
        )


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(self._registry)


def create_health_app(
    check: HealthCheck, registry: CollectorRegistry
) -> "falcon.App[falcon.Request, falcon.Response]":
    """``GET /healthz`` (200 or 503 with details) and ``GET /metrics``."""
    app: falcon.App[falcon.Request, falcon.Response] = falcon.App()
    app.add_route("/healthz", _Health(check))
    app.add_route("/metrics", _Metrics(registry))
    return app
