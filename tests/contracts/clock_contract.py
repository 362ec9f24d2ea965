"""The contract of the Clock port."""

from datetime import UTC, timedelta

from monitoring_core.ports import Clock


class ClockContract:
    """Subclasses provide ``make_clock``."""

    def make_clock(self) -> Clock:
        raise NotImplementedError

    def test_time_is_timezone_aware_utc(self) -> None:
        now = self.make_clock().now()
        assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
        assert now.astimezone(UTC) == now

    def test_time_never_goes_backwards(self) -> None:
        clock = self.make_clock()
        first = clock.now()
        assert clock.now() >= first
