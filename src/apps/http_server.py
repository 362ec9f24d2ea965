"""Serving HTTP from a background thread: health, metrics, the all-in-one API."""

import json
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, start_http_server

from apps.listen import address
from monitoring_core.errors import MonitoringError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class ListenError(MonitoringError):
    """A listener could not bind its address (in use, not local, no permission)."""

    def __init__(self, what: str, host: str, port: int, exc: OSError) -> None:
        reason = (exc.strerror or str(exc)).lower()
        super().__init__(f"cannot listen on {address(host, port)} for {what}: {reason}")


class QuietHandler(WSGIRequestHandler):
    """No access log; errors the server answers itself are problem+json too."""

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood the log; stay quiet."""

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None
    ) -> None:
        """Answer as the app does (RFC 9457), not with the stdlib's HTML page.

        The server answers a request line over 64 KiB (414) or a malformed
        request (400) before the app sees it.
        """
        status = HTTPStatus(code)
        body = json.dumps(
            {
                "type": "about:blank",
                "title": status.phrase,
                "status": code,
                "detail": explain or message or status.description,
            }
        ).encode()
        self.send_response(code, status.phrase)
        self.send_header("Content-Type", PROBLEM)
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= 200:
            self.wfile.write(body)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


def make_wsgi_server(
    app: Any, host: str, port: int, what: str = "the REST API"
) -> WSGIServer:
    """A threading WSGI server bound to ``host:port`` (IPv4 or IPv6, port 0 = any).

    Raises:
        ListenError: the address could not be bound.
    """
    server_class = _ThreadingServer6 if ":" in host else _ThreadingServer
    try:
        return make_server(
            host, port, app, server_class=server_class, handler_class=QuietHandler
        )
    except OSError as exc:
        raise ListenError(what, host, port, exc) from exc


def bound(server: WSGIServer) -> str:
    """The address the server really listens on, ``host:port``."""
    host, port = server.server_address[:2]
    return address(str(host), int(port))


@contextmanager
def serve_in_background(app: Any, port: int, host: str) -> Iterator[int]:
    """Serve ``app`` until the block ends; yields the bound port (0 = no server)."""
    if not port:
        yield 0
        return
    server = make_wsgi_server(app, host, port, "/healthz and /metrics")
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    log.info("serving /healthz and /metrics on %s", bound(server))
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)


def metrics_server(port: int, registry: CollectorRegistry, host: str) -> Iterator[None]:
    """``/metrics`` of ``registry`` on ``host:port`` until shutdown (0 = no server)."""
    if port:
        try:
            server, thread = start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            raise ListenError("/metrics", host, port, exc) from exc
        log.info("serving /metrics on %s", address(host, server.server_port))
        yield
        server.shutdown()
        thread.join(timeout=5)
    else:
        yield
