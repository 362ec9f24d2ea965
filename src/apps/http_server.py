"""Serving a WSGI app (health, metrics) from a background thread."""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood the log; stay quiet."""


class _ThreadingServer(WSGIServer):
    daemon_threads = True


@contextmanager
def serve_in_background(app: Any, port: int, host: str = "0.0.0.0") -> Iterator[int]:
    """Serve ``app`` until the block ends; yields the bound port (0 = no server)."""
    if not port:
        yield 0
        return
    server = make_server(
        host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    log.info("serving /healthz and /metrics on port %d", server.server_port)
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)
