"""The contract of the EtlTelemetry port: observations are counted per step."""

from monitoring_core.ports import EtlTelemetry
from monitoring_core.runs import Step
from tests.support import factories


class EtlTelemetryContract:
    """Subclasses provide ``make_telemetry`` and ``failures`` / ``cycles`` readers."""

    def make_telemetry(self) -> EtlTelemetry:
        raise NotImplementedError

    def failures(self, telemetry: EtlTelemetry, step: Step) -> float:
        raise NotImplementedError

    def cycles(self, telemetry: EtlTelemetry, ok: bool) -> float:
        raise NotImplementedError

    def test_failed_steps_are_counted_per_step(self) -> None:
        telemetry = self.make_telemetry()
        telemetry.observe_step(Step.DISCOVERY, 0.1, failed=True)
        telemetry.observe_step(Step.DISCOVERY, 0.2, failed=False)
        telemetry.observe_step(Step.PUBLISH, 0.3, failed=True)
        telemetry.observe_step(Step.DISCOVERY, 0.1, failed=True)
        assert self.failures(telemetry, Step.DISCOVERY) == 2
        assert self.failures(telemetry, Step.PUBLISH) == 1
        assert self.failures(telemetry, Step.FORECAST) == 0

    def test_cycles_are_counted_by_outcome(self) -> None:
        telemetry = self.make_telemetry()
        telemetry.observe_cycle(factories.etl_run())
        assert self.cycles(telemetry, ok=False) == 1
        assert self.cycles(telemetry, ok=True) == 0
