"""``monitoring run``: ETL, storage, REST API and SLA manager in one process.

Shutdown order keeps everything computed: the ETL finishes its cycle, the
storage loop drains the in-process bus into the database, then the REST API and
the gRPC server stop.
"""

import logging
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from apps.env import ConfigError
from apps.etl.runner import EtlRunner
from apps.run.config import load_run_config
from apps.run.containers import AllInOneContainer
from apps.signals import stop_on_signals
from monitoring_core.errors import MonitoringError

log = logging.getLogger(__name__)
DRAIN_SECONDS = 60.0


class _ThreadingWsgiServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Access logs would flood the terminal of a demo."""


def _thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _drain(container: AllInOneContainer) -> None:
    """Wait until the storage loop has taken everything off the bus."""
    feed = container.feed()
    deadline = time.monotonic() + DRAIN_SECONDS
    while feed.pending and time.monotonic() < deadline:
        time.sleep(0.1)
    if feed.pending:
        log.error("%d results were not stored before shutdown", feed.pending)


def _banner(container: AllInOneContainer, api_port: int, grpc_port: int) -> str:
    config = container.config()
    return (
        "monitoring run: all services in one process\n"
        f"  REST API   http://127.0.0.1:{api_port}/v1/series\n"
        f"  API docs   http://127.0.0.1:{api_port}/docs\n"
        f"  metrics    http://127.0.0.1:{api_port}/metrics\n"
        f"  gRPC (SLA) 127.0.0.1:{grpc_port}  (monitoring sla list)\n"
        f"  database   {config.storage.database_url.split('@')[-1]}\n"
        f"  Prometheus {config.etl.prometheus_url}, a cycle every "
        f"{config.etl.cycle_seconds} s\n"
        "  Ctrl-C stops everything after storing what was computed."
    )


def run() -> int:
    """Run until SIGTERM/SIGINT; exit 2 on bad configuration, 1 on a dead start."""
    try:
        config = load_run_config()
    except ConfigError as exc:
        print(f"monitoring run: {exc}", file=sys.stderr)
        return 2
    container = AllInOneContainer(config=config)
    stop = threading.Event()
    stop_on_signals(stop)
    try:
        container.init_resources()
        http = make_server(
            "0.0.0.0",
            config.api.port,
            container.app(),
            server_class=_ThreadingWsgiServer,
            handler_class=_QuietHandler,
        )
    except (MonitoringError, RuntimeError, OSError) as exc:
        print(f"monitoring run: cannot start: {exc}", file=sys.stderr)
        container.shutdown_resources()
        return 1
    storage = _thread(container.storage().run, "storage")
    api = _thread(http.serve_forever, "rest-api")
    print(
        _banner(container, http.server_port, container.grpc_server().port),
        file=sys.stderr,
        flush=True,
    )
    etl = EtlRunner(
        container.cycle(),
        config.etl.cycle_seconds,
        config.etl.metadata_seconds,
        stop,
        metadata_retry_seconds=config.etl.metadata_retry_seconds,
    )
    try:
        etl.run_forever()  # returns once ``stop`` is set and the cycle is done
    finally:
        _drain(container)
        container.storage_stop().set()
        storage.join(timeout=30)
        http.shutdown()
        api.join(timeout=5)
        container.shutdown_resources()
    log.info("stopped; %d results stored", container.storage().stored)
    return 0
