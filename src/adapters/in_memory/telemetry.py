"""Telemetry kept in lists, for tests and the embedded mode."""

from monitoring_core.ports import EtlTelemetry, IngestTelemetry
from monitoring_core.runs import EtlRun, Step


class InMemoryEtlTelemetry(EtlTelemetry):
    """Remembers every observation."""

    def __init__(self) -> None:
        self.steps: list[tuple[Step, float, bool]] = []
        self.cycles: list[EtlRun] = []

    def observe_step(self, step: Step, seconds: float, failed: bool) -> None:
        """Keep the step's duration and outcome."""
        self.steps.append((step, seconds, failed))

    def observe_cycle(self, run: EtlRun) -> None:
        """Keep the finished cycle."""
        self.cycles.append(run)

    def failures(self, step: Step) -> int:
        """How many times a step failed."""
        return sum(1 for s, _, failed in self.steps if s is step and failed)


class InMemoryIngestTelemetry(IngestTelemetry):
    """Remembers every batch ``(size, rejected, write seconds)`` and failure."""

    def __init__(self) -> None:
        self.batches: list[tuple[int, int, float]] = []
        self.store_failures = 0

    def observe_batch(self, size: int, rejected: int, write_seconds: float) -> None:
        """Keep the committed batch."""
        self.batches.append((size, rejected, write_seconds))

    def observe_store_failure(self) -> None:
        """Count the failed write."""
        self.store_failures += 1
