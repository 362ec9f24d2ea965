"""A young history reads "warming up: N % of the window measured" end to end.

The SLA manager runs on in-memory adapters holding exactly ten minutes of
samples; its answer goes through the gRPC conversion and the CLI's tables.
"""

from datetime import UTC, datetime

from adapters.grpc.convert import prediction_message, violations_message
from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from apps.sla import tables
from monitoring_core.series import SeriesKey
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from tests.support.sla_services import SlaServices, sla_services

START = datetime(2026, 12, 4, 12, 0, tzinfo=UTC).timestamp()
LOAD = SeriesKey.of("node_load1", {"job": "node"})


def manager_with_minutes(minutes: int) -> SlaServices:
    clock = FixedClock(datetime.fromtimestamp(START + minutes * 60, UTC))
    source = InMemoryMetricSource()
    source.add(LOAD, [(START + i * 5, 0.5) for i in range(minutes * 12)])
    manager = sla_services(
        repository=InMemorySlaRepository(clock),
        source=source,
        samples=source,
        forecasts=InMemoryResultStore(),
        clock=clock,
    )
    objective = ObjectiveDraft(
        selector='node_load1{job="node"}', lo=0.0, hi=4.0, target=0.95, window="30m"
    )
    manager.definitions.apply(SlaDraft(name="demo", objectives=(objective,)))
    return manager


def test_ten_minutes_of_a_30_minute_window_read_as_warming_up_33_percent() -> None:
    report = prediction_message(
        manager_with_minutes(10).predictions.predict("demo"), 600
    )
    assert report.status == pb.STATUS_WARMING_UP
    (series,) = report.objectives[0].series
    assert series.compliance.warming_up
    assert series.compliance.coverage == 10 / 30
    text = tables.status(report)
    assert "sla demo: warming up: 33 % of the window measured at" in text
    row = next(line for line in text.splitlines() if "node_load1" in line)
    assert "warming up: 33 % of the window measured" in row
    assert "insufficient_data" not in text


def test_a_full_window_reads_as_a_plain_status() -> None:
    report = prediction_message(
        manager_with_minutes(30).predictions.predict("demo"), 600
    )
    assert report.status == pb.STATUS_OK
    assert not report.objectives[0].series[0].compliance.warming_up
    assert "warming up" not in tables.status(report)


def test_violations_mark_the_coverage_of_a_young_window() -> None:
    manager = manager_with_minutes(10)
    at = datetime.fromtimestamp(START + 600, UTC)
    text = tables.violations(
        violations_message(
            "demo", at, manager.judgement.violations("demo", [300, 1800])
        )
    )
    rows = {line.split()[0]: line for line in text.splitlines() if "node_load1" in line}
    assert "100.0%" in rows["5m"] and "warming up" not in rows["5m"]
    assert "33.3% (warming up)" in rows["30m"]
