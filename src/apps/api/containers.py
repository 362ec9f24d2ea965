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

CACHE_SECONDS = 5.0
"""How long a worker reuses a single-series read: a third of the responses'
``max-age``, and far below an ETL cycle. ``Cache-Control: no-cache`` skips it."""


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
        cache_seconds=CACHE_SECONDS,
    )
