"""The contract of the IngestTelemetry port: what the storage service did, counted."""

import attrs
import pytest

from monitoring_core.ports import IngestTelemetry


@attrs.frozen(kw_only=True)
class Readings:
    """What a telemetry shows, however it keeps it."""

    batches: float
    stored: float
    dead_letters: float
    store_failures: float
    write_seconds: float


class IngestTelemetryContract:
    """Subclasses provide ``make_telemetry`` and ``read`` (the adapter's own view)."""

    def make_telemetry(self) -> IngestTelemetry:
        raise NotImplementedError

    def read(self, telemetry: IngestTelemetry) -> Readings:
        raise NotImplementedError

    def test_nothing_observed_reads_zero(self) -> None:
        readings = self.read(self.make_telemetry())
        assert readings == Readings(
            batches=0, stored=0, dead_letters=0, store_failures=0, write_seconds=0
        )

    def test_batches_count_stored_messages_apart_from_dead_letters(self) -> None:
        telemetry = self.make_telemetry()
        telemetry.observe_batch(size=10, rejected=2, write_seconds=0.25)
        telemetry.observe_batch(size=5, rejected=0, write_seconds=0.5)
        telemetry.observe_batch(size=3, rejected=3, write_seconds=0.125)
        readings = self.read(telemetry)
        assert readings.batches == 3
        assert readings.stored == 8 + 5 + 0
        assert readings.dead_letters == 2 + 0 + 3
        assert readings.write_seconds == pytest.approx(0.875)
        assert readings.store_failures == 0

    def test_store_failures_are_counted_and_stay_apart_from_batches(self) -> None:
        telemetry = self.make_telemetry()
        telemetry.observe_store_failure()
        telemetry.observe_store_failure()
        telemetry.observe_batch(size=4, rejected=1, write_seconds=0.0)
        readings = self.read(telemetry)
        assert readings.store_failures == 2
        assert (readings.batches, readings.stored, readings.dead_letters) == (1, 3, 1)

    def test_two_telemetries_do_not_share_counts(self) -> None:
        first, second = self.make_telemetry(), self.make_telemetry()
        first.observe_batch(size=7, rejected=0, write_seconds=1.0)
        assert self.read(second).batches == 0
        assert self.read(first).stored == 7
