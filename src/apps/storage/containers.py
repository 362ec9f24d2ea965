"""Wiring of the storage service from its validated configuration.

The only place the storage use cases are built; ``monitoring run`` composes
this container and overrides its transport (ADR 0024).
"""

import threading
from collections.abc import Iterator

from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry

from adapters.kafka.result_feed import kafka_feed
from adapters.kafka.result_publisher import ensure_topic
from adapters.prometheus_client.storage_telemetry import PrometheusIngestTelemetry
from adapters.sql import migrate
from adapters.sql.result_store import sql_store
from adapters.system.clock import SystemClock
from apps.storage.config import StorageConfig
from apps.storage.runner import StorageRunner
from monitoring_core.services.storage_ingest import StorageIngest


def _prepare(config: StorageConfig) -> Iterator[None]:
    """Schema first (when asked), then both topics."""
    if config.migrate:
        migrate.upgrade(config.database_url)
    ensure_topic(config.kafka.bootstrap, config.kafka.topic, 4)
    ensure_topic(config.kafka.bootstrap, config.dead_letter_topic, 1)
    yield


class StorageContainer(containers.DeclarativeContainer):
    """Kafka consumer group in, SQL database out, health and metrics on a port."""

    config = providers.Dependency(instance_of=StorageConfig)
    stop = providers.Singleton(threading.Event)
    clock = providers.Singleton(SystemClock)
    prepared = providers.Resource(_prepare, config)
    store = providers.Resource(sql_store, config.provided.database_url)
    feed = providers.Resource(
        kafka_feed,
        config.provided.kafka.bootstrap,
        config.provided.kafka.topic,
        config.provided.group,
        config.provided.instance_id,
        config.provided.dead_letter_topic,
    )
    registry = providers.Singleton(CollectorRegistry)
    telemetry = providers.Singleton(PrometheusIngestTelemetry, registry)
    ingest = providers.Singleton(
        StorageIngest,
        feed=feed,
        store=store,
        telemetry=telemetry,
        batch_size=config.provided.batch_size,
        should_stop=stop.provided.is_set,
    )
    runner = providers.Singleton(
        StorageRunner,
        ingest=ingest,
        feed=feed,
        store=store,
        telemetry=telemetry,
        clock=clock,
        retention_seconds=config.provided.retention_seconds,
        prune_every_seconds=config.provided.prune_every_seconds,
        stop=stop,
    )
