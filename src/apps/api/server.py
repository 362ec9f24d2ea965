"""A gunicorn application that builds one API container per worker."""

import json
import logging
from typing import Any

from gunicorn import util
from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from apps.api.config import ApiConfig
from apps.api.containers import ApiContainer
from apps.listen import address, warn_if_exposed
from apps.settings import API_TOKEN

log = logging.getLogger(__name__)
REQUEST_LINE_LIMIT = 8190
"""gunicorn's largest: room for 100 ``match[]`` selectors (default 4094)."""


def _write_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answers (414, 400, 431) as problem+json, not HTML.

    gunicorn writes them before the app sees the request and has no hook for
    their body, so its ``util.write_error`` is replaced in the master (the
    workers are forked from it).
    """
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status_int, "detail": mesg}
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def _child_exit(_server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the multiprocess files."""
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class ApiServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured from ``ApiConfig`` instead of its command line."""

    def __init__(self, config: ApiConfig) -> None:
        self._config = config
        self._container: ApiContainer | None = None
        super().__init__()

    def load_config(self) -> None:
        """Bind, workers and hooks."""
        util.write_error = _write_problem
        settings = {
            "bind": address(self._config.host, self._config.port),
            "limit_request_line": REQUEST_LINE_LIMIT,
            "workers": self._config.workers,
            "worker_class": "gthread",
            "threads": self._config.threads,
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "child_exit": _child_exit,
            "worker_exit": self._worker_exit,
            "when_ready": self._when_ready,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Runs in each worker after the fork: engines are never shared."""
        self._container = ApiContainer(config=self._config)
        self._container.init_resources()
        log.info("api worker serving %s", self._config.database_url.split("@")[-1])
        return self._container.app()

    def _when_ready(self, server: Any) -> None:
        """Say where the API really listens (port 0 picks one), once."""
        for listener in server.LISTENERS:
            host, port = listener.sock.getsockname()[:2]
            bound = address(host, port)
            log.info("REST API listening on %s", bound)
            token = self._config.token
            warn_if_exposed(log, "the REST API", bound, host, API_TOKEN, token)

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self._container is not None:
            self._container.shutdown_resources()
