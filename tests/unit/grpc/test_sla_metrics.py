"""The SLA manager's gRPC metrics count calls by method and status code."""

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from adapters.grpc.client import SlaCallError, SlaClient
from adapters.grpc.metrics import MetricsInterceptor
from adapters.grpc.server import start_server
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from tests.support.sla_services import sla_services


def test_calls_are_counted_by_method_and_code_and_timed() -> None:
    clock = FixedClock(datetime(2026, 11, 27, tzinfo=UTC))
    manager = sla_services(
        repository=InMemorySlaRepository(clock),
        source=InMemoryMetricSource(),
        samples=InMemoryMetricSource(),
        forecasts=InMemoryResultStore(),
        clock=clock,
    )
    registry = CollectorRegistry()
    server = start_server(
        manager.servicer(clock),
        "127.0.0.1:0",
        token="s3cret",
        interceptors=[MetricsInterceptor(registry)],
    )
    try:
        with SlaClient(f"127.0.0.1:{server.port}", token="s3cret") as client:
            assert client.list_slas() == []
            with pytest.raises(SlaCallError):
                client.get("missing")
        with (
            SlaClient(f"127.0.0.1:{server.port}") as anonymous,
            pytest.raises(SlaCallError),
        ):
            anonymous.list_slas()
    finally:
        server.stop(0)

    def calls(method: str, code: str) -> float | None:
        return registry.get_sample_value(
            "monitoring_sla_grpc_calls_total", {"method": method, "code": code}
        )

    assert calls("ListSlas", "OK") == 1
    assert calls("GetSla", "NOT_FOUND") == 1
    assert calls("ListSlas", "UNAUTHENTICATED") == 1
    count = registry.get_sample_value(
        "monitoring_sla_grpc_call_seconds_count", {"method": "ListSlas"}
    )
    assert count == 2
