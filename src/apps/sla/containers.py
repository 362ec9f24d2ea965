"""Wiring of the SLA manager from its validated configuration.

The only place the SLA manager's services are built; ``monitoring run``
composes this container and overrides its transport (ADR 0024).
"""

from collections.abc import Iterator

from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry

from adapters.grpc.metrics import MetricsInterceptor
from adapters.grpc.server import SlaServer, TlsFiles, start_server
from adapters.grpc.service import SlaManagerServicer
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from adapters.prometheus.sample_source import PrometheusSampleSource
from adapters.sql import migrate
from adapters.sql.prediction_log import sql_prediction_log
from adapters.sql.result_store import sql_store
from adapters.sql.sla_repository import sql_sla_repository
from adapters.system.clock import SystemClock
from apps.http_server import metrics_server
from apps.listen import address
from apps.sla.config import SlaManagerConfig
from apps.sla.refresher import state_refresher
from apps.sla.rule_sync import NotifyingSlaRepository, rule_file_syncer
from monitoring_core.services.sla_console import SlaConsoleQueries
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import SlaJudgement
from monitoring_core.services.sla_predictions import PredictionService
from monitoring_core.services.sla_state import SlaStateService
from monitoring_core.sla import SlaLimits


def _schema(config: SlaManagerConfig) -> Iterator[None]:
    if config.migrate:
        migrate.upgrade(config.database_url)
    yield


def _tls(config: SlaManagerConfig) -> TlsFiles | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    return TlsFiles(cert=config.tls_cert, key=config.tls_key)


def grpc_server(
    servicer: SlaManagerServicer,
    config: SlaManagerConfig,
    registry: CollectorRegistry,
    _schema: None,
) -> Iterator[SlaServer]:
    """Listen only once the schema is migrated (``_schema`` orders the two)."""
    server = start_server(
        servicer,
        address(config.host, config.port),
        token=config.token,
        tls=_tls(config),
        interceptors=[MetricsInterceptor(registry)],
    )
    yield server
    server.stop(grace_seconds=5)


class SlaManagerContainer(containers.DeclarativeContainer):
    """SQL repository and forecasts, Prometheus samples, a gRPC server."""

    config = providers.Dependency(instance_of=SlaManagerConfig)
    clock = providers.Singleton(SystemClock)
    schema = providers.Resource(_schema, config)
    http = providers.Singleton(
        PrometheusHttp,
        config.provided.prometheus_url,
        config.provided.prometheus_timeout_seconds,
    )
    source = providers.Singleton(PrometheusMetricSource, http)
    samples = providers.Singleton(PrometheusSampleSource, http)
    repository = providers.Singleton(
        NotifyingSlaRepository,
        providers.Singleton(sql_sla_repository, config.provided.database_url, clock),
    )
    forecasts = providers.Resource(sql_store, config.provided.database_url)
    definitions = providers.Singleton(
        SlaDefinitions,
        repository=repository,
        source=source,
        clock=clock,
        limits=providers.Singleton(
            SlaLimits, max_objectives=config.provided.max_objectives
        ),
    )
    judgement = providers.Singleton(
        SlaJudgement,
        definitions=definitions,
        samples=samples,
        clock=clock,
        coverage_floor=config.provided.coverage_floor,
    )
    predictions = providers.Singleton(
        PredictionService,
        definitions=definitions,
        judgement=judgement,
        forecasts=forecasts,
        clock=clock,
        log=providers.Singleton(sql_prediction_log, config.provided.database_url),
    )
    registry = providers.Singleton(CollectorRegistry)
    state = providers.Singleton(
        SlaStateService,
        definitions=definitions,
        judgement=judgement,
        predictions=predictions,
        clock=clock,
        series_cap=config.provided.series_label_cap,
    )
    console = providers.Singleton(
        SlaConsoleQueries, state, definitions, judgement, predictions, clock
    )
    """What the web console reads: over gRPC, or in process in ``monitoring run``."""
    servicer = providers.Singleton(
        SlaManagerServicer, definitions, judgement, predictions, clock, console
    )
    refresher = providers.Resource(
        state_refresher,
        state,
        registry,
        config.provided.refresh_seconds,
        schema,
    )
    rules = providers.Resource(
        rule_file_syncer, definitions, repository, config, schema
    )
    metrics = providers.Resource(
        metrics_server, config.provided.metrics_port, registry, config.provided.host
    )
    server = providers.Resource(grpc_server, servicer, config, registry, schema)
