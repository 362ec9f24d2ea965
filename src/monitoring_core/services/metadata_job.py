"""The metadata use case: read a long history, describe every series."""

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitoring_core.metadata import SeriesMetadata
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
        self, series: Sequence[SeriesInfo], at: datetime
    ) -> list[SeriesMetadata]:
        """Fetch each series' history over the lookback and analyse it."""
        step = self._settings.metadata_step_seconds
        end = datetime.fromtimestamp(at.timestamp() // step * step, at.tzinfo)
        start = end - timedelta(seconds=self._settings.metadata_lookback_seconds)
        histories = self._source.history(series, start, end, step)
        found = self._analyzer.analyze(histories, at)
        with self._lock:
            self._latest.update((m.series.id, m) for m in found)
        return found

    def latest(self) -> dict[str, SeriesMetadata]:
        """A snapshot of the newest metadata of every analysed series."""
        with self._lock:
            return dict(self._latest)
