"""A clock that tests and simulations set by hand."""

from datetime import datetime, timedelta

from monitoring_core.ports import Clock


class FixedClock(Clock):
    """Returns the time it was set to; ``advance`` moves it forward."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = now

    def now(self) -> datetime:
        """The time the clock was set to."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self._now += timedelta(seconds=seconds)
