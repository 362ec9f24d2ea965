"""Wiring of the all-in-one mode: the four service containers, composed.

Each service's use cases are built by its own container; this one composes
them and overrides only what differs in one process (ADR 0015, ADR 0024):
results travel on the in-process bus instead of Kafka, one SQLite (or other)
database is migrated once and shared, the ETL asks the SLA manager for the SLA
set by a direct call instead of gRPC, and one ``/metrics`` (the REST API's)
shows the ETL's and storage's metrics.
"""

from collections.abc import Iterator

from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry

from adapters.in_memory.result_feed import InMemoryResultFeed
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.shard_lease import InMemoryShardLease, every_shard
from adapters.prometheus_client.etl_telemetry import PrometheusEtlTelemetry
from adapters.sql import migrate
from adapters.sql.result_store import sql_store
from adapters.system.clock import SystemClock
from apps.api.containers import ApiContainer
from apps.etl.containers import EtlContainer
from apps.run.config import RunConfig
from apps.run.progress import ProgressTelemetry
from apps.sla.containers import SlaManagerContainer
from apps.storage.containers import StorageContainer
from monitoring_core.sharding import ALL_SHARDS_WORKER


def _schema(config: RunConfig) -> Iterator[None]:
    migrate.upgrade(config.storage.database_url)
    yield


def _feed(bus: InMemoryResultPublisher) -> InMemoryResultFeed:
    feed = InMemoryResultFeed()
    feed.attach(bus)
    return feed


def _nothing() -> providers.Object[None]:
    """Stands for a resource the all-in-one mode does not open (topics, ports)."""
    return providers.Object(None)


def _prometheus_url(config: RunConfig) -> str:
    return config.etl.prometheus_url


def _in_process_lease(config: RunConfig) -> InMemoryShardLease:
    return every_shard(config.etl.sharding, ALL_SHARDS_WORKER)


class AllInOneContainer(containers.DeclarativeContainer):
    """ETL, storage, REST API and SLA manager in one process."""

    config = providers.Dependency(instance_of=RunConfig)
    clock = providers.Singleton(SystemClock)
    schema = providers.Resource(_schema, config)
    store = providers.Resource(sql_store, config.provided.storage.database_url)
    registry = providers.Singleton(CollectorRegistry)
    bus = providers.Singleton(InMemoryResultPublisher, retain=False)
    feed = providers.Singleton(_feed, bus)

    etl = providers.Container(
        EtlContainer,
        config=config.provided.etl,
        clock=clock,
        topic=_nothing(),
        publisher=bus,
        registry=registry,
        metrics_server=_nothing(),
        # One process owns every shard: no shard group (ADR 0055).
        lease=providers.Singleton(_in_process_lease, config),
        telemetry=providers.Singleton(
            ProgressTelemetry,
            providers.Singleton(PrometheusEtlTelemetry, registry),
            config.provided.progress_cycles,
        ),
    )
    sla = providers.Container(
        SlaManagerContainer,
        config=config.provided.sla,
        clock=clock,
        schema=schema,
        http=etl.http,
        source=etl.source,
        forecasts=store,
        registry=registry,
        metrics=_nothing(),
    )
    # The SLA set comes from the SLA manager in this process, not over gRPC.
    etl.targets.override(sla.definitions.provided.forecast_targets)
    storage = providers.Container(
        StorageContainer,
        config=config.provided.storage,
        clock=clock,
        prepared=_nothing(),
        store=store,
        feed=feed,
        registry=registry,
    )
    api = providers.Container(
        ApiContainer,
        config=config.provided.api,
        store=store,
        clock=clock,
        registry=registry,
        exposition=_nothing(),
        cache_seconds=providers.Object(0.0),  # reads the store directly, as always
        # The console's SLA pages read the SLA manager of this process, and
        # the alerts of the Prometheus the ETL reads (ADR 0057).
        sla=sla.console,
        prometheus_url=providers.Callable(_prometheus_url, config),
    )
