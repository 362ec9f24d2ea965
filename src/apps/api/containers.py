"""Wiring of one API worker from its validated configuration."""

from dependency_injector import containers, providers
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from adapters.rest.api import create_app
from adapters.sql.result_store import sql_store
from adapters.system.clock import SystemClock
from apps.api.config import ApiConfig


def multiprocess_exposition() -> tuple[bytes, str]:
    """Metrics of every gunicorn worker, summed from ``PROMETHEUS_MULTIPROC_DIR``."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


class ApiContainer(containers.DeclarativeContainer):
    """A SQL store read through ``ResultQueries``, behind the Falcon app."""

    config = providers.Dependency(instance_of=ApiConfig)
    store = providers.Resource(sql_store, config.provided.database_url)
    app = providers.Singleton(
        create_app,
        store,
        providers.Singleton(SystemClock),
        config.provided.token,
        exposition=providers.Object(multiprocess_exposition),
        # A worker reuses a single-series read this long (default 5 s: far
        # below an ETL cycle); ``Cache-Control: no-cache`` skips it.
        cache_seconds=config.provided.cache_seconds,
        windows=config.provided.windows,
    )
