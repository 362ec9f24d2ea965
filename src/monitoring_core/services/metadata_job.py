"""The metadata use case: read a long history, describe every series."""

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitoring_core.metadata import SeriesMetadata, Stationarity
from monitoring_core.ports import MetadataAnalyzer, MetricSource
from monitoring_core.series import SeriesInfo
from monitoring_core.services.settings import EtlSettings


class MetadataJob:
    """Analyses series and remembers the latest metadata per series id."""

    def __init__(
        self, source: MetricSource, analyzer: MetadataAnalyzer, settings: EtlSettings
    ) -> None:
        self._source = source
        self._analyzer = analyzer
        self._settings = settings
        self._latest: dict[str, SeriesMetadata] = {}
        self._lock = threading.Lock()

    def analyze(
        self, series: Sequence[SeriesInfo], at: datetime, *, only_pending: bool = False
    ) -> list[SeriesMetadata]:
        """Fetch each series' history over the lookback and analyse it.

        Args:
            series: the series to describe.
            at: the analysis time; the history ends at the last step before it.
            only_pending: analyse only the series that :meth:`pending` selects
                (the retry between two full runs); nothing is read when none is.

        Returns:
            The new metadata, one record per analysed series.
        """
        if only_pending:
            series = self.pending(series)
            if not series:
                return []
        step = self._settings.metadata_step_seconds
        end = datetime.fromtimestamp(at.timestamp() // step * step, at.tzinfo)
        start = end - timedelta(seconds=self._settings.metadata_lookback_seconds)
        histories = self._source.history(series, start, end, step)
        found = self._analyzer.analyze(histories, at)
        with self._lock:
            self._latest.update((m.series.id, m) for m in found)
        return found

    def pending(self, series: Sequence[SeriesInfo]) -> list[SeriesInfo]:
        """The series without metadata yet or whose metadata is insufficient.

        A young series (too short a history) is insufficient at first; it is
        worth analysing again soon rather than at the next full run.
        """
        with self._lock:
            latest = dict(self._latest)
        return [
            s
            for s in series
            if s.key.id not in latest
            or latest[s.key.id].stationarity is Stationarity.INSUFFICIENT_DATA
        ]

    def latest(self) -> dict[str, SeriesMetadata]:
        """A snapshot of the newest metadata of every analysed series."""
        with self._lock:
            return dict(self._latest)
