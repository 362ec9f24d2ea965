"""``monitoring run``: ETL, storage, REST API and SLA manager in one process.

Shutdown order keeps everything computed: the ETL finishes its cycle, the
storage loop drains the in-process bus into the database, then the REST API and
the gRPC server stop.
"""

import logging
import sys
import threading
import time
from collections.abc import Callable

from apps.env import ConfigError
from apps.http_server import bound, make_wsgi_server
from apps.listen import address, url_host, warn_if_exposed
from apps.logs import use_human_format
from apps.run.config import RunConfig, load_run_config
from apps.run.containers import AllInOneContainer
from apps.settings import API_TOKEN, SLA_TOKEN
from apps.signals import stop_on_signals
from monitoring_core.errors import MonitoringError

log = logging.getLogger(__name__)
DRAIN_SECONDS = 60.0


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


def banner(config: RunConfig, api: str, grpc: str) -> str:
    """What a person needs, with the addresses really bound (``host:port``)."""
    host = url_host(config.api.host)
    api_port, grpc_port = api.rsplit(":", 1)[1], grpc.rsplit(":", 1)[1]
    return (
        "monitoring run: all services in one process\n"
        f"  REST API   http://{host}:{api_port}/v1/series\n"
        f"  console    http://{host}:{api_port}/ui\n"
        f"  API docs   http://{host}:{api_port}/docs\n"
        f"  metrics    http://{host}:{api_port}/metrics\n"
        f"  gRPC (SLA) {host}:{grpc_port}  (monitoring sla list)\n"
        f"  listening  {api} (HTTP), {grpc} (gRPC)\n"
        f"  database   {config.storage.database_url.split('@')[-1]}\n"
        f"  Prometheus {config.etl.prometheus_url}, a cycle every "
        f"{config.etl.cycle_seconds} s\n"
        "  Ctrl-C stops everything after storing what was computed."
    )


def _warn_if_exposed(config: RunConfig, api: str, grpc: str) -> None:
    host, token = config.api.host, config.api.token
    warn_if_exposed(log, "the REST API", api, host, API_TOKEN, token)
    host, token = config.sla.host, config.sla.token
    warn_if_exposed(log, "the SLA manager", grpc, host, SLA_TOKEN, token)


def run() -> int:
    """Run until SIGTERM/SIGINT; exit 2 on bad configuration, 1 on a dead start."""
    try:
        config = load_run_config()
    except ConfigError as exc:
        print(f"monitoring run: {exc}", file=sys.stderr)
        return 2
    use_human_format()
    container = AllInOneContainer(config=config)
    stop_on_signals(container.etl.stop())
    try:
        container.init_resources()
        http = make_wsgi_server(container.api.app(), config.api.host, config.api.port)
    except (MonitoringError, RuntimeError, OSError) as exc:
        print(f"monitoring run: cannot start: {exc}", file=sys.stderr)
        container.shutdown_resources()
        return 1
    storage = _thread(container.storage.runner().run, "storage")
    serving = _thread(http.serve_forever, "rest-api")
    api, grpc = bound(http), address(config.sla.host, container.sla.server().port)
    print(banner(config, api, grpc), file=sys.stderr, flush=True)
    _warn_if_exposed(config, api, grpc)
    try:
        # Returns once ``stop`` is set and the cycle is done.
        container.etl.runner().run_forever()
    finally:
        _drain(container)
        container.storage.stop().set()
        storage.join(timeout=30)
        http.shutdown()
        serving.join(timeout=5)
        container.shutdown_resources()
    log.info("stopped; %d results stored", container.storage.runner().stored)
    return 0
