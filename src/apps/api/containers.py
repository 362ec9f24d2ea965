"""Wiring of one API worker from its validated configuration.

The only place the REST app is built; ``monitoring run`` composes this
container with its own store and metrics registry (ADR 0024).
"""

from collections.abc import Iterator

from dependency_injector import containers, providers
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from adapters.grpc.sla_console import GrpcSlaConsole
from adapters.prometheus.alert_states import PrometheusAlertStates
from adapters.prometheus.client import PrometheusHttp
from adapters.rest.api import create_app
from adapters.rest.ui.alert_views import ConsoleAlerts
from adapters.sql.result_store import sql_store
from adapters.system.clock import SystemClock
from apps.api.config import ApiConfig
from monitoring_core.services.sla_console import SlaConsoleSource

CONSOLE_TIMEOUT_SECONDS = 20.0
"""Deadline of the console's calls to the SLA manager: below gunicorn's 30 s."""
CONSOLE_RECONNECT_SECONDS = 2.0
"""Longest wait between reconnections: pages recover soon after the manager."""


def multiprocess_exposition() -> tuple[bytes, str]:
    """Metrics of every gunicorn worker, summed from ``PROMETHEUS_MULTIPROC_DIR``."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _cache_seconds(config: ApiConfig) -> float:
    return config.cache_seconds


ALERTS_TIMEOUT_SECONDS = 5.0
"""A page waits at most this long for Prometheus' alerts, then says they are
unavailable (ADR 0057)."""


def _prometheus_url(config: ApiConfig) -> str | None:
    return config.prometheus_url


def console_alerts(prometheus_url: str | None) -> ConsoleAlerts | None:
    """The active alerts of that Prometheus for the console; None without one."""
    if prometheus_url is None:
        return None
    # No retry: the library's retries with backoff held a page 6 s when
    # Prometheus refused the connection.
    http = PrometheusHttp(prometheus_url, ALERTS_TIMEOUT_SECONDS, retries=0)
    return ConsoleAlerts(PrometheusAlertStates(http), f"{prometheus_url}/alerts")


def sla_console(config: ApiConfig) -> Iterator[SlaConsoleSource | None]:
    """The SLA manager over gRPC when MONITORING_SLA_ADDRESS is set; the
    channel connects on the first call and is closed on shutdown."""
    if config.sla is None:
        yield None
        return
    client = config.sla.client(
        timeout_seconds=CONSOLE_TIMEOUT_SECONDS,
        reconnect_seconds=CONSOLE_RECONNECT_SECONDS,
    )
    try:
        yield GrpcSlaConsole(client)
    finally:
        client.close()


class ApiContainer(containers.DeclarativeContainer):
    """A SQL store read through ``ResultQueries``, behind the Falcon app."""

    config = providers.Dependency(instance_of=ApiConfig)
    store = providers.Resource(sql_store, config.provided.database_url)
    clock = providers.Singleton(SystemClock)
    registry = providers.Singleton(CollectorRegistry)
    """Where request metrics are registered."""
    exposition = providers.Object(multiprocess_exposition)
    """What ``/metrics`` serves; None serves ``registry``."""
    # A worker reuses a single-series read this long (default 5 s: far below
    # an ETL cycle); ``Cache-Control: no-cache`` skips it.
    cache_seconds = providers.Callable(_cache_seconds, config)
    sla: providers.Provider[SlaConsoleSource | None] = providers.Resource(
        sla_console, config
    )
    """What the console reads of the SLA manager: over gRPC, or in process
    (``monitoring run`` overrides it with its SLA manager's)."""
    prometheus_url = providers.Callable(_prometheus_url, config)
    """Where the console reads alerts (``monitoring run``: the ETL's Prometheus)."""
    alerts = providers.Singleton(console_alerts, prometheus_url)
    app = providers.Singleton(
        create_app,
        store,
        clock,
        config.provided.token,
        registry=registry,
        exposition=exposition,
        cache_seconds=cache_seconds,
        windows=config.provided.windows,
        sla=sla,
        alerts=alerts,
    )
