"""A gunicorn application that builds one API container per worker."""

import logging
from typing import Any

from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from apps.api.config import ApiConfig
from apps.api.containers import ApiContainer

log = logging.getLogger(__name__)


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
        settings = {
            "bind": f"0.0.0.0:{self._config.port}",
            "workers": self._config.workers,
            "worker_class": "gthread",
            "threads": self._config.threads,
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "child_exit": _child_exit,
            "worker_exit": self._worker_exit,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Runs in each worker after the fork: engines are never shared."""
        self._container = ApiContainer(config=self._config)
        self._container.init_resources()
        log.info("api worker serving %s", self._config.database_url.split("@")[-1])
        return self._container.app()

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self._container is not None:
            self._container.shutdown_resources()
