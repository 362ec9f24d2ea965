"""ETL cycles on the in-memory adapters, for unit tests."""

from typing import Any

from adapters.in_memory.forecaster import InMemoryForecaster
from adapters.in_memory.metadata_analyzer import InMemoryMetadataAnalyzer
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.in_memory.telemetry import InMemoryEtlTelemetry
from monitoring_core.ports import Clock
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.settings import EtlSettings


def in_memory_cycle(
    source: InMemoryMetricSource,
    clock: Clock,
    bus: InMemoryResultPublisher,
    settings: EtlSettings,
    **extra: Any,
) -> EtlCycle:
    """An ETL cycle on in-memory adapters; ``extra`` goes to ``EtlCycle`` as is
    (``lease`` and ``sharding`` for a worker of a group, ``window_seconds``)."""
    return EtlCycle(
        source=source,
        publisher=bus,
        forecaster=InMemoryForecaster(),
        metadata=MetadataJob(source, InMemoryMetadataAnalyzer(), settings),
        telemetry=InMemoryEtlTelemetry(),
        clock=clock,
        settings=settings,
        **extra,
    )
