"""Both IngestTelemetry adapters pass the contract; Prometheus' read as scraped."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from adapters.in_memory.telemetry import InMemoryIngestTelemetry
from adapters.prometheus_client.storage_telemetry import PrometheusIngestTelemetry
from monitoring_core.ports import IngestTelemetry
from tests.contracts.ingest_telemetry_contract import (
    IngestTelemetryContract,
    Readings,
)


class TestInMemoryIngestTelemetry(IngestTelemetryContract):
    def make_telemetry(self) -> IngestTelemetry:
        return InMemoryIngestTelemetry()

    def read(self, telemetry: IngestTelemetry) -> Readings:
        assert isinstance(telemetry, InMemoryIngestTelemetry)
        batches = telemetry.batches
        return Readings(
            batches=len(batches),
            stored=sum(size - rejected for size, rejected, _ in batches),
            dead_letters=sum(rejected for _, rejected, _ in batches),
            store_failures=telemetry.store_failures,
            write_seconds=sum(seconds for *_, seconds in batches),
        )


class TestPrometheusIngestTelemetry(IngestTelemetryContract):
    def make_telemetry(self) -> IngestTelemetry:
        return PrometheusIngestTelemetry(CollectorRegistry())

    def read(self, telemetry: IngestTelemetry) -> Readings:
        # What a Prometheus scrape of the storage service would see.
        assert isinstance(telemetry, PrometheusIngestTelemetry)
        text = generate_latest(telemetry.registry).decode()
        scraped = {
            sample.name: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if not sample.labels
        }
        return Readings(
            batches=scraped["monitoring_storage_batch_size_count"],
            stored=scraped["monitoring_storage_messages_total"],
            dead_letters=scraped["monitoring_storage_dead_letters_total"],
            store_failures=scraped["monitoring_storage_write_failures_total"],
            write_seconds=scraped["monitoring_storage_write_seconds_sum"],
        )
