"""Ports: what the core needs from the outside world, named by role."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.runs import EtlRun, Step
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesHistory, SeriesInfo
from monitoring_core.windows import SeriesWindowStats

Result = SeriesWindowStats | SeriesMetadata | Forecast | ForecastScore | EtlRun
"""Everything the ETL publishes."""

ForecastTargets = Callable[[], Sequence[Selector]]
"""Extra selectors to forecast, e.g. the SLA set; may raise, callers fall back."""


class Clock(Protocol):
    """Where the time comes from."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class MetricSource(Protocol):
    """A time-series database holding the series to analyse (Prometheus)."""

    def discover(
        self, selectors: Sequence[Selector], start: datetime, end: datetime
    ) -> list[SeriesInfo]:
        """List the series that the selectors match and that had samples.

        Args:
            selectors: series selectors; a series matched twice is listed once.
            start, end: only series with samples in this interval.

        Returns:
            Every matched series with its kind (counter or gauge).

        Raises:
            SourceUnavailable: the source could not answer.
        """
        ...

    def window_stats(
        self, series: Sequence[SeriesInfo], windows: Sequence[int], at: datetime
    ) -> list[SeriesWindowStats]:
        """Trailing-window statistics of the given series at time ``at``.

        Args:
            series: from ``discover``.
            windows: window lengths in seconds.
            at: evaluation time; windows are ``(at - w, at]``.

        Returns:
            One entry per series that had a sample in the longest window.

        Raises:
            SourceUnavailable: the source could not answer.
        """
        ...

    def history(
        self,
        series: Sequence[SeriesInfo],
        start: datetime,
        end: datetime,
        step_seconds: int,
    ) -> list[SeriesHistory]:
        """Values of the series on a regular grid (counters as per-second rates).

        Raises:
            SourceUnavailable: the source could not answer.
        """
        ...


class ResultPublisher(Protocol):
    """Where results go (a Kafka topic, or an in-process bus)."""

    def publish(self, results: Sequence[Result]) -> None:
        """Hand results over for delivery; delivery may complete later.

        Raises:
            PublishError: the bounded buffer is full; nothing of the call's
                results beyond the reported count was accepted.
        """
        ...

    def flush(self, timeout_seconds: float) -> int:
        """Wait for pending deliveries; return how many are still undelivered."""
        ...


class Forecaster(Protocol):
    """Fits models to histories and forecasts the next steps with intervals."""

    def forecast(
        self,
        histories: Sequence[SeriesHistory],
        horizon_steps: int,
        made_at: datetime,
        metadata: dict[str, SeriesMetadata],
    ) -> list[Forecast]:
        """Forecast every history that has enough data.

        Args:
            histories: regular grids ending at the last observed step.
            horizon_steps: how many steps ahead, one point each.
            made_at: recorded on every forecast.
            metadata: the latest metadata by series id, a hint for model choice.

        Returns:
            One forecast per history with enough points; others are left out.
        """
        ...


class MetadataAnalyzer(Protocol):
    """Computes stationarity, autocorrelation and seasonality of histories."""

    def analyze(
        self, histories: Sequence[SeriesHistory], computed_at: datetime
    ) -> list[SeriesMetadata]:
        """One metadata record per history, ``insufficient_data`` when needed."""
        ...


class EtlTelemetry(Protocol):
    """Records the ETL's own execution times and failures."""

    def observe_step(self, step: Step, seconds: float, failed: bool) -> None:
        """Record one step's duration and outcome."""
        ...

    def observe_cycle(self, run: EtlRun) -> None:
        """Record a finished cycle."""
        ...
