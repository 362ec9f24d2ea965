"""EtlTelemetry as Prometheus metrics on the ETL's own ``/metrics`` endpoint."""

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from monitoring_core.ports import EtlTelemetry
from monitoring_core.runs import EtlRun, Step

_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class PrometheusEtlTelemetry(EtlTelemetry):
    """Histograms of step and cycle durations, counters of failures.

    Args:
        registry: where the metrics live (one per service, so tests are isolated).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._step = Histogram(
            "monitoring_etl_step_duration_seconds",
            "Duration of one ETL step.",
            ["step"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self._cycle = Histogram(
            "monitoring_etl_cycle_duration_seconds",
            "Duration of a whole ETL cycle.",
            buckets=_BUCKETS,
            registry=registry,
        )
        self._failures = Counter(
            "monitoring_etl_step_failures",
            "ETL steps that failed.",
            ["step"],
            registry=registry,
        )
        self._cycles = Counter(
            "monitoring_etl_cycles", "ETL cycles run.", ["outcome"], registry=registry
        )
        self._last = Gauge(
            "monitoring_etl_last_cycle_timestamp_seconds",
            "When the last cycle finished.",
            registry=registry,
        )
        self._series = Gauge(
            "monitoring_etl_series", "Series in the last cycle.", registry=registry
        )
        for step in Step:
            self._failures.labels(step.value)
        for outcome in ("ok", "failed"):
            self._cycles.labels(outcome)

    def observe_step(self, step: Step, seconds: float, failed: bool) -> None:
        """Record one step."""
        self._step.labels(step.value).observe(seconds)
        if failed:
            self._failures.labels(step.value).inc()

    def observe_cycle(self, run: EtlRun) -> None:
        """Record a finished cycle."""
        self._cycle.observe(run.seconds)
        self._cycles.labels("ok" if run.ok else "failed").inc()
        self._last.set(run.finished_at.timestamp())
        self._series.set(run.series_count)

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """Expose a value read at scrape time (e.g. messages pending delivery)."""
        Gauge(name, help_text, registry=self.registry).set_function(read)
