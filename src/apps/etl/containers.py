"""Wiring of the ETL service from its validated configuration.

The only place the ETL's use cases are built; ``monitoring run`` composes this
container and overrides its transport (ADR 0024).
"""

import logging
import threading
from collections.abc import Iterator

from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry

from adapters.forecasting.ets import VectorizedEtsForecaster
from adapters.forecasting.metadata_analyzer import SktimeMetadataAnalyzer
from adapters.forecasting.sktime_forecaster import SktimeForecaster
from adapters.grpc.forecast_targets import SlaForecastTargets
from adapters.in_memory.shard_lease import every_shard
from adapters.kafka.result_publisher import ensure_topic, kafka_publisher
from adapters.kafka.shard_lease import (
    KafkaShardLease,
    ShardTopicMismatch,
    ensure_shard_topic,
)
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from adapters.prometheus_client.etl_telemetry import PrometheusEtlTelemetry
from adapters.sql.etl_state import open_etl_state
from adapters.system.clock import SystemClock
from apps.etl.config import EtlConfig
from apps.etl.cycle_marker import CycleMarkers, markers_beside
from apps.etl.runner import EtlRunner
from apps.http_server import metrics_server
from monitoring_core.errors import MonitoringError
from monitoring_core.ports import (
    EtlStateStore,
    Forecaster,
    ForecastTargets,
    ShardLease,
)
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.metadata_job import MetadataJob

log = logging.getLogger(__name__)


def forecaster_for(engine: str) -> Forecaster:
    return SktimeForecaster() if engine == "sktime" else VectorizedEtsForecaster()


def _narrow_label(config: EtlConfig) -> str | None:
    """A worker of a group reads its share of each metric (ADR 0055)."""
    return config.sharding.label if config.shard_group is not None else None


def _topic(config: EtlConfig) -> Iterator[None]:
    ensure_topic(config.kafka_bootstrap, config.kafka_topic, config.kafka_partitions)
    yield


def _state(config: EtlConfig) -> Iterator[EtlStateStore | None]:
    """The state file, opened at start-up (a clear error if it cannot be)."""
    if config.state_path is None:
        yield None
        return
    store = open_etl_state(config.state_path)
    try:
        yield store
    finally:
        store.close()


def _markers(config: EtlConfig) -> CycleMarkers | None:
    """Markers of started cycles beside the state file (ADR 0053)."""
    if config.state_path is None:
        return None
    try:
        return markers_beside(config.state_path)
    except OSError as exc:
        log.warning("no cycle markers (a killed cycle will leave no trace): %s", exc)
        return None


def _lease(config: EtlConfig) -> Iterator[ShardLease]:
    """This worker's membership of the shard group (ADR 0055)."""
    if config.shard_group is None:
        yield every_shard(config.sharding, config.worker_id)
        return
    try:
        ensure_shard_topic(
            config.kafka_bootstrap, config.shard_topic, config.sharding.count
        )
    except ShardTopicMismatch:
        raise
    except MonitoringError as exc:  # the broker may come later: the group waits
        log.warning("could not ensure the shard topic: %s", exc)
    lease = KafkaShardLease(
        bootstrap=config.kafka_bootstrap,
        topic=config.shard_topic,
        group=config.shard_group,
        worker=config.worker_id,
        sharding=config.sharding,
    )
    log.info(
        "etl worker %s joins group %s (%d shards on topic %s)",
        config.worker_id,
        config.shard_group,
        config.sharding.count,
        config.shard_topic,
    )
    try:
        yield lease
    finally:
        lease.close()


def _targets(config: EtlConfig) -> ForecastTargets | None:
    if config.sla is None:
        return None
    return SlaForecastTargets(config.sla.client(timeout_seconds=10))


class EtlContainer(containers.DeclarativeContainer):
    """Prometheus source, Kafka publisher, sktime/numpy analysis, own /metrics."""

    config = providers.Dependency(instance_of=EtlConfig)
    clock = providers.Singleton(SystemClock)
    http = providers.Singleton(
        PrometheusHttp,
        config.provided.prometheus_url,
        config.provided.prometheus_timeout_seconds,
    )
    source = providers.Singleton(
        PrometheusMetricSource,
        http,
        rate_seconds=config.provided.counter_rate_seconds,
        resolution_seconds=config.provided.settings.forecast_step_seconds,
        batch_series=config.provided.prometheus_batch_series,
        concurrency=config.provided.prometheus_concurrency,
        narrow_label=providers.Callable(_narrow_label, config),
    )
    topic = providers.Resource(_topic, config)
    publisher = providers.Resource(
        kafka_publisher,
        config.provided.kafka_bootstrap,
        config.provided.kafka_topic,
        clock,
        config.provided.kafka_buffer_messages,
        config.provided.kafka_flush_seconds,
    )
    registry = providers.Singleton(CollectorRegistry)
    telemetry = providers.Singleton(PrometheusEtlTelemetry, registry)
    metrics_server = providers.Resource(
        metrics_server, config.provided.metrics_port, registry, config.provided.host
    )
    forecaster = providers.Singleton(forecaster_for, config.provided.forecast_engine)
    analyzer = providers.Singleton(SktimeMetadataAnalyzer)
    targets = providers.Singleton(_targets, config)
    state = providers.Resource(_state, config)
    lease: providers.Provider[ShardLease] = providers.Resource(_lease, config)
    metadata = providers.Singleton(
        MetadataJob, source, analyzer, config.provided.settings
    )
    cycle = providers.Singleton(
        EtlCycle,
        source=source,
        publisher=publisher,
        forecaster=forecaster,
        metadata=metadata,
        telemetry=telemetry,
        clock=clock,
        settings=config.provided.settings,
        targets=targets,
        state=state,
        lease=lease,
        sharding=config.provided.sharding,
        window_seconds=config.provided.cycle_seconds,
    )
    stop = providers.Singleton(threading.Event)
    runner = providers.Singleton(
        EtlRunner,
        cycle,
        config.provided.cycle_seconds,
        config.provided.metadata_seconds,
        stop,
        metadata_retry_seconds=config.provided.metadata_retry_seconds,
        markers=providers.Singleton(_markers, config),
        publisher=publisher,
        clock=clock,
        worker=config.provided.worker_id,
    )
