"""Wiring of one API worker from its validated configuration.

The only place the REST app is built; ``monitoring run`` composes this
container with its own store and metrics registry (ADR 0024).
"""

from dependency_injector import containers, providers
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from adapters.rest.api import create_app
from adapters.rest.ui.sla_views import SlaUseCases
from adapters.sql.result_store import sql_store
from adapters.system.clock import SystemClock
from apps.api.config import ApiConfig


def multiprocess_exposition() -> tuple[bytes, str]:
    """Metrics of every gunicorn worker, summed from ``PROMETHEUS_MULTIPROC_DIR``."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _cache_seconds(config: ApiConfig) -> float:
    return config.cache_seconds


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
    sla: providers.Provider[SlaUseCases | None] = providers.Object(None)
    """The SLA manager's use cases for the console (``monitoring run`` sets them)."""
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
    )
