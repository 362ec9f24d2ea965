"""Clocks and telemetry adapters pass their contracts."""

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.telemetry import InMemoryEtlTelemetry
from adapters.prometheus_client.etl_telemetry import PrometheusEtlTelemetry
from adapters.system.clock import SystemClock
from monitoring_core.ports import Clock, EtlTelemetry
from monitoring_core.runs import Step
from tests.contracts.clock_contract import ClockContract
from tests.contracts.etl_telemetry_contract import EtlTelemetryContract


class TestSystemClock(ClockContract):
    def make_clock(self) -> Clock:
        return SystemClock()


class TestFixedClock(ClockContract):
    def make_clock(self) -> Clock:
        return FixedClock(datetime(2026, 1, 1, tzinfo=UTC))


class TestInMemoryTelemetry(EtlTelemetryContract):
    def make_telemetry(self) -> EtlTelemetry:
        return InMemoryEtlTelemetry()

    def failures(self, telemetry: EtlTelemetry, step: Step) -> float:
        assert isinstance(telemetry, InMemoryEtlTelemetry)
        return telemetry.failures(step)

    def cycles(self, telemetry: EtlTelemetry, ok: bool) -> float:
        assert isinstance(telemetry, InMemoryEtlTelemetry)
        return sum(1 for c in telemetry.cycles if c.ok is ok)


class TestPrometheusTelemetry(EtlTelemetryContract):
    def make_telemetry(self) -> EtlTelemetry:
        return PrometheusEtlTelemetry(CollectorRegistry())

    def _sample(
        self, telemetry: EtlTelemetry, name: str, labels: dict[str, str]
    ) -> float:
        assert isinstance(telemetry, PrometheusEtlTelemetry)
        value = telemetry.registry.get_sample_value(name, labels)
        assert value is not None, (name, labels)
        return value

    def failures(self, telemetry: EtlTelemetry, step: Step) -> float:
        return self._sample(
            telemetry, "monitoring_etl_step_failures_total", {"step": step.value}
        )

    def cycles(self, telemetry: EtlTelemetry, ok: bool) -> float:
        return self._sample(
            telemetry,
            "monitoring_etl_cycles_total",
            {"outcome": "ok" if ok else "failed"},
        )


def test_step_durations_are_histograms_in_the_exposition() -> None:
    telemetry = PrometheusEtlTelemetry(CollectorRegistry())
    telemetry.observe_step(Step.FORECAST, 0.3, failed=False)
    telemetry.gauge("monitoring_etl_kafka_pending_messages", "pending", lambda: 7)
    text = generate_latest(telemetry.registry).decode()
    assert (
        'monitoring_etl_step_duration_seconds_bucket{le="0.5",step="forecast"} 1.0'
        in text
    )
    assert "monitoring_etl_kafka_pending_messages 7.0" in text
