"""IngestTelemetry as Prometheus metrics of the storage service."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from monitoring_core.ports import IngestTelemetry

_SIZES = (1, 10, 100, 500, 1000, 2000, 5000, 10000)
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class PrometheusIngestTelemetry(IngestTelemetry):
    """Batch sizes, write latency, dead letters, store failures and lag."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._size = Histogram(
            "monitoring_storage_batch_size",
            "Messages per written batch.",
            buckets=_SIZES,
            registry=registry,
        )
        self._latency = Histogram(
            "monitoring_storage_write_seconds",
            "Time to write and commit one batch.",
            buckets=_SECONDS,
            registry=registry,
        )
        self._stored = Counter(
            "monitoring_storage_messages",
            "Messages written and committed.",
            registry=registry,
        )
        self._dead = Counter(
            "monitoring_storage_dead_letters",
            "Messages set aside in the dead-letter topic.",
            registry=registry,
        )
        self._failures = Counter(
            "monitoring_storage_write_failures",
            "Failed writes, retried.",
            registry=registry,
        )
        self.lag = Gauge(
            "monitoring_storage_consumer_lag",
            "Messages on the assigned partitions not yet consumed.",
            registry=registry,
        )

    def observe_batch(self, size: int, rejected: int, write_seconds: float) -> None:
        """Record one committed batch."""
        self._size.observe(size)
        self._latency.observe(write_seconds)
        self._stored.inc(size - rejected)
        self._dead.inc(rejected)

    def observe_store_failure(self) -> None:
        """Record a failed write."""
        self._failures.inc()
