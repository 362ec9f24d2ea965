"""The real wall clock."""

from datetime import UTC, datetime

from monitoring_core.ports import Clock


class SystemClock(Clock):
    """UTC wall-clock time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)
