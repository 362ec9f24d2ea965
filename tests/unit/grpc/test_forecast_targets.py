"""The ETL asks for the SLA set over real gRPC; an outage raises a MonitoringError."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.grpc.client import SlaClient
from adapters.grpc.forecast_targets import SlaForecastTargets
from adapters.grpc.server import SlaServer, start_server
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from monitoring_core.errors import MonitoringError
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from tests.support.sla_services import sla_services

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[SlaServer]:
    clock = FixedClock(NOW)
    manager = sla_services(
        repository=InMemorySlaRepository(clock),
        source=InMemoryMetricSource(),
        samples=InMemoryMetricSource(),
        forecasts=InMemoryResultStore(),
        clock=clock,
    )
    objectives = tuple(
        ObjectiveDraft(selector=s, hi=1.0, target=0.99, window="1h", allow_pending=True)
        for s in ('up{job="node"}', 'node_load1{instance="db-1:9100"}')
    )
    manager.definitions.apply(SlaDraft(name="pending", objectives=objectives))
    running = start_server(manager.servicer(clock), "127.0.0.1:0")
    yield running
    running.stop(0)


def test_targets_are_the_objective_selectors(server: SlaServer) -> None:
    with SlaClient(f"127.0.0.1:{server.port}") as client:
        targets = SlaForecastTargets(client)()
    assert sorted(t.to_promql() for t in targets) == [
        'node_load1{instance="db-1:9100"}',
        'up{job="node"}',
    ]


def test_an_unreachable_manager_raises_a_monitoring_error(server: SlaServer) -> None:
    """The ETL cycle catches MonitoringError and keeps its last answer."""
    client = SlaClient(f"127.0.0.1:{server.port}", timeout_seconds=2)
    server.stop(0)
    with pytest.raises(MonitoringError, match="unavailable"):
        SlaForecastTargets(client)()
    client.close()
