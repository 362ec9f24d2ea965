"""Wiring of the all-in-one mode: the same use cases, embedded adapters.

Compared with the four services, only this container differs: results travel
on the in-process bus instead of Kafka, the database defaults to a SQLite file,
the ETL asks the SLA manager for the SLA set by a direct call instead of gRPC,
and one ``/metrics`` (the REST API's) shows the ETL's and storage's metrics.
"""

import threading
from collections.abc import Iterator

from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry

from adapters.forecasting.metadata_analyzer import SktimeMetadataAnalyzer
from adapters.grpc.service import SlaManagerServicer
from adapters.in_memory.result_feed import InMemoryResultFeed
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from adapters.prometheus.sample_source import PrometheusSampleSource
from adapters.prometheus_client.etl_telemetry import PrometheusEtlTelemetry
from adapters.prometheus_client.storage_telemetry import PrometheusIngestTelemetry
from adapters.rest.api import create_app
from adapters.sql import migrate
from adapters.sql.prediction_log import sql_prediction_log
from adapters.sql.result_store import sql_store
from adapters.sql.sla_repository import sql_sla_repository
from adapters.system.clock import SystemClock
from apps.etl.containers import forecaster_for
from apps.run.config import RunConfig
from apps.run.progress import ProgressTelemetry
from apps.sla.containers import grpc_server as serve_sla
from apps.storage.runner import StorageRunner
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import SlaJudgement
from monitoring_core.services.sla_predictions import PredictionService
from monitoring_core.services.storage_ingest import StorageIngest
from monitoring_core.sla import SlaLimits


def _schema(config: RunConfig) -> Iterator[None]:
    migrate.upgrade(config.storage.database_url)
    yield


def _feed(bus: InMemoryResultPublisher) -> InMemoryResultFeed:
    feed = InMemoryResultFeed()
    feed.attach(bus)
    return feed


class AllInOneContainer(containers.DeclarativeContainer):
    """ETL, storage, REST API and SLA manager in one process."""

    config = providers.Dependency(instance_of=RunConfig)
    clock = providers.Singleton(SystemClock)
    schema = providers.Resource(_schema, config)
    store = providers.Resource(sql_store, config.provided.storage.database_url)
    registry = providers.Singleton(CollectorRegistry)

    # SLA manager
    http = providers.Singleton(
        PrometheusHttp,
        config.provided.etl.prometheus_url,
        config.provided.etl.prometheus_timeout_seconds,
    )
    source = providers.Singleton(
        PrometheusMetricSource,
        http,
        rate_seconds=config.provided.etl.counter_rate_seconds,
        resolution_seconds=config.provided.etl.settings.forecast_step_seconds,
        batch_series=config.provided.etl.prometheus_batch_series,
        concurrency=config.provided.etl.prometheus_concurrency,
    )
    definitions = providers.Singleton(
        SlaDefinitions,
        repository=providers.Singleton(
            sql_sla_repository, config.provided.storage.database_url, clock
        ),
        source=source,
        clock=clock,
        limits=providers.Singleton(
            SlaLimits, max_objectives=config.provided.sla.max_objectives
        ),
    )
    judgement = providers.Singleton(
        SlaJudgement,
        definitions=definitions,
        samples=providers.Singleton(PrometheusSampleSource, http),
        clock=clock,
        coverage_floor=config.provided.sla.coverage_floor,
    )
    predictions = providers.Singleton(
        PredictionService,
        definitions=definitions,
        judgement=judgement,
        forecasts=store,
        clock=clock,
        log=providers.Singleton(
            sql_prediction_log, config.provided.storage.database_url
        ),
    )
    grpc_server = providers.Resource(
        serve_sla,
        providers.Singleton(
            SlaManagerServicer, definitions, judgement, predictions, clock
        ),
        config.provided.sla,
        registry,
        schema,
    )

    # ETL, publishing on the in-process bus
    bus = providers.Singleton(InMemoryResultPublisher, retain=False)
    feed = providers.Singleton(_feed, bus)
    telemetry = providers.Singleton(
        ProgressTelemetry,
        providers.Singleton(PrometheusEtlTelemetry, registry),
        config.provided.progress_cycles,
    )
    cycle = providers.Singleton(
        EtlCycle,
        source=source,
        publisher=bus,
        forecaster=providers.Singleton(
            forecaster_for, config.provided.etl.forecast_engine
        ),
        metadata=providers.Singleton(
            MetadataJob,
            source,
            providers.Singleton(SktimeMetadataAnalyzer),
            config.provided.etl.settings,
        ),
        telemetry=telemetry,
        clock=clock,
        settings=config.provided.etl.settings,
        targets=definitions.provided.forecast_targets,
    )

    # Storage, consuming the bus
    storage_stop = providers.Singleton(threading.Event)
    ingest_telemetry = providers.Singleton(PrometheusIngestTelemetry, registry)
    ingest = providers.Singleton(
        StorageIngest,
        feed=feed,
        store=store,
        telemetry=ingest_telemetry,
        batch_size=config.provided.storage.batch_size,
        should_stop=storage_stop.provided.is_set,
    )
    storage = providers.Singleton(
        StorageRunner,
        ingest=ingest,
        feed=feed,
        store=store,
        telemetry=ingest_telemetry,
        clock=clock,
        retention_seconds=config.provided.storage.retention_seconds,
        prune_every_seconds=config.provided.storage.prune_every_seconds,
        stop=storage_stop,
    )

    # REST API
    app = providers.Singleton(
        create_app,
        store,
        clock,
        config.provided.api.token,
        registry=registry,
        windows=config.provided.etl.settings.windows,
    )
