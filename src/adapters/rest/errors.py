"""The one place that maps errors to RFC 9457 ``application/problem+json``."""

import json
import logging
from typing import Any

import falcon

from monitoring_core.errors import StoreUnavailable

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
RETRY_AFTER_SECONDS = 5
_PREFIX = "urn:monitoring:problem:"


class BadParameter(ValueError):
    """A query or path parameter the API cannot use."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail


class UnknownSeries(LookupError):
    """No series has this id."""


class Unauthorized(PermissionError):
    """The bearer token is missing or wrong."""


def problem(
    resp: falcon.Response, status: int, title: str, detail: str, **extra: Any
) -> None:
    """Write a problem document; ``type`` is derived from the title."""
    kind = "about:blank" if title == _phrase(status) else _PREFIX + _slug(title)
    body = {"type": kind, "title": title, "status": status, "detail": detail}
    resp.status = status
    resp.content_type = PROBLEM
    resp.text = json.dumps({**body, **extra})


def _phrase(status: int) -> str:
    return str(falcon.code_to_http_status(status)).split(" ", 1)[1]


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def _http_error(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, _: Any
) -> None:
    status = int(ex.status_code)
    resp.set_headers(ex.headers or {})
    detail = ex.description or f"{req.method} {req.path}: {ex.title}"
    problem(resp, status, _phrase(status), detail)


def _bad_parameter(
    _req: falcon.Request, resp: falcon.Response, ex: BadParameter, _: Any
) -> None:
    problem(resp, 400, "Invalid parameter", str(ex), parameter=ex.parameter)


def _unknown_series(
    _req: falcon.Request, resp: falcon.Response, ex: UnknownSeries, _: Any
) -> None:
    problem(resp, 404, "Unknown series", f"no series has the id {ex.args[0]!r}")


def _unauthorized(
    _req: falcon.Request, resp: falcon.Response, ex: Unauthorized, _: Any
) -> None:
    resp.set_header("WWW-Authenticate", 'Bearer realm="monitoring"')
    problem(resp, 401, "Unauthorized", str(ex))


def _store_unavailable(
    _req: falcon.Request, resp: falcon.Response, ex: StoreUnavailable, _: Any
) -> None:
    log.warning("result store unavailable: %s", ex)
    resp.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
    problem(resp, 503, "Store unavailable", "the result store cannot be reached")


def _unexpected(
    req: falcon.Request, resp: falcon.Response, ex: Exception, _: Any
) -> None:
    log.exception("unhandled error in %s %s", req.method, req.path, exc_info=ex)
    problem(resp, 500, "Internal Server Error", "an unexpected error occurred")


def register(app: "falcon.App[falcon.Request, falcon.Response]") -> None:
    """Install every handler; the most specific class wins (Falcon MRO lookup)."""
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(falcon.HTTPError, _http_error)
    app.add_error_handler(BadParameter, _bad_parameter)
    app.add_error_handler(UnknownSeries, _unknown_series)
    app.add_error_handler(Unauthorized, _unauthorized)
    app.add_error_handler(StoreUnavailable, _store_unavailable)
