"""Ports: what the core needs from the outside world, named by role."""

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

import attrs

from monitoring_core.alerts import Alert
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.prediction_scores import PredictionRecord
from monitoring_core.results import Result as Result
from monitoring_core.runs import EtlRun, Step
from monitoring_core.selectors import Selector
from monitoring_core.series import (
    SeriesHistory,
    SeriesInfo,
    SeriesRecord,
    SeriesSamples,
)
from monitoring_core.sla import Sla
from monitoring_core.slo.slices import SeriesSliceStats
from monitoring_core.windows import SeriesWindowStats

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


class ResultStore(Protocol):
    """Durable storage of results (a SQL database)."""

    def write(self, results: Sequence[Result]) -> None:
        """Store results in one transaction, idempotently.

        Every result has a natural key (series id + time, or run id); writing a
        result whose key is stored replaces it with the same data, so a
        redelivered batch changes nothing. Series rows are created or have
        their ``last_seen`` moved on.

        Raises:
            StoreUnavailable: nothing of the batch was written.
        """
        ...

    def prune(self, older_than: datetime, batch_size: int) -> int:
        """Delete history older than ``older_than``, ``batch_size`` rows per
        transaction (short locks); returns how many rows went.

        Raises:
            StoreUnavailable: the database could not be reached.
        """
        ...


class ResultQueries(Protocol):
    """Reading stored results back (for the REST API and the SLA manager)."""

    def get_series(self, series_id: str) -> SeriesRecord | None:
        """One series, or None when unknown."""
        ...

    def list_series(
        self, name: str | None, after_id: str | None, limit: int
    ) -> list[SeriesRecord]:
        """Series ordered by id, after the cursor ``after_id``, optionally of
        one metric name; at most ``limit``."""
        ...

    def latest_window_stats(self, series_id: str) -> SeriesWindowStats | None:
        """The newest window statistics of a series."""
        ...

    def window_stats_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[SeriesWindowStats]:
        """Window statistics evaluated in ``[start, end]``, oldest first."""
        ...

    def latest_metadata(self, series_id: str) -> SeriesMetadata | None:
        """The newest metadata of a series."""
        ...

    def latest_forecast(self, series_id: str) -> Forecast | None:
        """The newest forecast of a series."""
        ...

    def latest_forecast_score(self, series_id: str) -> ForecastScore | None:
        """The newest forecast score of a series."""
        ...

    def forecast_scores_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[ForecastScore]:
        """Scores of the forecasts made in ``[start, end]``, oldest first."""
        ...

    def etl_runs(self, limit: int) -> list[EtlRun]:
        """The most recent ETL runs, newest first."""
        ...

    def ping(self) -> None:
        """Check the store answers.

        Raises:
            StoreUnavailable: it does not.
        """
        ...


@attrs.frozen(kw_only=True)
class Received:
    """One message taken from the results feed.

    Attributes:
        result: the decoded result, or None when it was rejected.
        rejection: why the message could not become a result.
        origin: where it came from, for logs (e.g. ``topic[partition]@offset``).
    """

    result: Result | None
    rejection: str | None = None
    origin: str = ""


class ResultFeed(Protocol):
    """Where the storage service takes results from (a Kafka consumer group)."""

    def next_batch(self, max_items: int, timeout_seconds: float) -> list[Received]:
        """Up to ``max_items`` messages; fewer (or none) after the timeout."""
        ...

    def dead_letter(self, rejected: Sequence[Received]) -> None:
        """Set rejected messages aside durably, with their reasons.

        Raises:
            PublishError: they could not be set aside; do not commit.
        """
        ...

    def commit(self) -> None:
        """Mark every message handed out so far as done."""
        ...

    def hold(self) -> None:
        """Fetch nothing new while the store is away, yet stay in the group."""
        ...

    def release(self) -> None:
        """Fetch again after ``hold``."""
        ...


class IngestTelemetry(Protocol):
    """Records what the storage service does."""

    def observe_batch(self, size: int, rejected: int, write_seconds: float) -> None:
        """A batch was written and committed."""
        ...

    def observe_store_failure(self) -> None:
        """A write failed and will be retried."""
        ...


class SampleSource(Protocol):
    """Raw samples, exactly as scraped, for judging objectives slice by slice."""

    def samples(
        self, selector: Selector, start: datetime, end: datetime
    ) -> list[SeriesSamples]:
        """Every sample in ``[start, end)`` of every series the selector matches.

        Raises:
            SourceUnavailable: the source could not answer.
        """
        ...

    def slice_stats(
        self,
        selectors: Sequence[Selector],
        start: datetime,
        end: datetime,
        slice_seconds: int,
    ) -> list[list[SeriesSliceStats]]:
        """What each slice of ``[start, end)`` adds up to, for several selectors.

        The same as :func:`~monitoring_core.slo.slices.slice_stats` of
        :meth:`samples` for each selector (the same series, counts, minima and
        maxima; totals may differ in the last bits, as sums in another order
        do), but a source may sum up the slices itself and answer every
        selector at once.

        Args:
            selectors: what to read; the answer has one list per selector.
            start, end: whole slices apart, aligned as the caller wants them.
            slice_seconds: the slice length Δ.

        Returns:
            For each selector, every series it matches with a sample in
            ``[start, end)``, by canonical key, one entry per slice.

        Raises:
            SourceUnavailable: the source could not answer.
        """
        ...


class ForecastLookup(Protocol):
    """The latest stored forecast of a series (a subset of ResultQueries)."""

    def latest_forecast(self, series_id: str) -> Forecast | None:
        """The newest forecast of the series, None when there is none.

        Raises:
            StoreUnavailable: the store could not be read.
        """
        ...


class SlaRepository(Protocol):
    """Where SLA definitions live (the project's SQL database)."""

    def get(self, name: str) -> Sla | None:
        """The stored SLA of that name, None when there is none.

        Raises:
            StoreUnavailable: the store could not be read.
        """
        ...

    def all(self) -> list[Sla]:
        """Every stored SLA, by name.

        Raises:
            StoreUnavailable: the store could not be read.
        """
        ...

    def put(self, sla: Sla, expected_version: int | None) -> tuple[Sla, bool]:
        """Create or replace an SLA in one transaction.

        Args:
            sla: the new definition (its version is ignored).
            expected_version: the version the caller based the change on, 0 for
                "must not exist yet", None for an unconditional write.

        Returns:
            The stored SLA with its version, and whether anything changed; an
            identical definition is not written again and keeps its version.

        Raises:
            VersionConflict: the stored version is not ``expected_version``.
            StoreUnavailable: the store could not be written.
        """
        ...

    def delete(self, name: str, expected_version: int | None) -> None:
        """Delete an SLA.

        Raises:
            SlaNotFound: there is no SLA of that name.
            VersionConflict: the stored version is not ``expected_version``.
            StoreUnavailable: the store could not be written.
        """
        ...


class PredictionLog(Protocol):
    """Where predictions are kept so that they can be scored once they are due."""

    def record(self, records: Sequence[PredictionRecord]) -> None:
        """Keep predictions; a record made twice at the same time replaces the first.

        Raises:
            StoreUnavailable: the store could not be written.
        """
        ...

    def between(
        self, sla: str, start: datetime, end: datetime
    ) -> list[PredictionRecord]:
        """The SLA's predictions made in ``[start, end)``, oldest first.

        Raises:
            StoreUnavailable: the store could not be read.
        """
        ...


ForecastKey = tuple[str, datetime]
"""A kept forecast's identity: its series id and when it was made."""


class EtlStateStore(Protocol):
    """The ETL's small durable state, kept across restarts (ADR 0047).

    The forecasts awaiting their score (the forecast ledger) and the last SLA
    forecast target set. Every write is atomic: a process killed during one
    leaves the state of the write before.
    """

    def pending_forecasts(self) -> list[Forecast]:
        """Every kept forecast, in no particular order.

        Raises:
            StoreUnavailable: the state could not be read.
        """
        ...

    def update_forecasts(
        self, added: Sequence[Forecast], removed: Sequence[ForecastKey]
    ) -> None:
        """In one transaction: forget the forecasts of ``removed`` (unknown keys
        are ignored), then keep ``added`` (replacing a kept forecast of the same
        key).

        Raises:
            StoreUnavailable: the state could not be written; it is unchanged.
        """
        ...

    def replace_forecasts(self, forecasts: Sequence[Forecast]) -> None:
        """In one transaction: the kept forecasts become exactly ``forecasts``.

        Raises:
            StoreUnavailable: the state could not be written; it is unchanged.
        """
        ...

    def forecast_targets(self) -> list[Selector] | None:
        """The last saved target set; None when none was ever saved.

        Raises:
            StoreUnavailable: the state could not be read.
        """
        ...

    def save_forecast_targets(self, selectors: Sequence[Selector]) -> None:
        """Replace the saved target set (an empty one is a set too).

        Raises:
            StoreUnavailable: the state could not be written; it is unchanged.
        """
        ...


class ShardLease(Protocol):
    """The shards this ETL worker analyses, and their claims (ADR 0055).

    A shard is analysed at most once per cycle window, whichever worker owns
    it: a worker claims its shards for a window before analysing them, and
    publishes a shard's results only while it still owns it.
    """

    @property
    def worker(self) -> str:
        """This worker's name (its instance id)."""
        ...

    def owned(self) -> frozenset[int]:
        """The shards this worker owns now (none before it has joined)."""
        ...

    def claim(self, window: int) -> frozenset[int]:
        """Claim, for cycle window ``window``, the owned shards that no worker
        has claimed for it (or a later one) yet; returns those claimed."""
        ...

    def publishing(
        self, shards: frozenset[int], claimed: bool = True
    ) -> AbstractContextManager[frozenset[int]]:
        """Enter to get those of ``shards`` this worker still owns; none of
        them is taken from it until the block ends. With ``claimed``, only
        shards still claimed: claims of shards taken away since ``claim``
        were handed back with them. Without (``owned()`` runs: metadata,
        ``--once``), every shard still owned."""
        ...

    def finished(self, window: int, shards: frozenset[int], at: datetime) -> None:
        """Record that ``shards`` were analysed for ``window``, ending at ``at``
        (called inside ``publishing``)."""
        ...


class AlertStates(Protocol):
    """Where alerting rules are evaluated (Prometheus): its active alerts (ADR 0057)."""

    def active(self) -> list[Alert]:
        """Every alert that is pending or firing now, of every rule.

        Returns:
            The alerts with their labels, state, activation time and value;
            map them to SLAs with ``monitoring_core.alerts.by_sla``.

        Raises:
            SourceUnavailable: the rule evaluator could not answer.
        """
        ...
